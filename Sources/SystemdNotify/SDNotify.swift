// SystemdNotify module.
