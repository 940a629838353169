"""Who may use the workbench (accounts, passwords, lockout) and what they changed (audit log)."""
