// Engines module.
