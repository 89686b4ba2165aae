"""Pure text processing shared by training and serving: no I/O, nothing heavy."""
