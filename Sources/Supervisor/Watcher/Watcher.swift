// Watcher module.
