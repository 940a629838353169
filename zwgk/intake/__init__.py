"""Files in, rows out: the unit directory, holidays, the application register, the work plan."""
