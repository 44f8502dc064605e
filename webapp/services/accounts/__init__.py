"""User accounts: AIPHAS changes to them, the account directory and the password policy."""
