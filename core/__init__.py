"""What every layer shares: settings, the database connection, errors, authentication."""
