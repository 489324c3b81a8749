// Manifest module.
