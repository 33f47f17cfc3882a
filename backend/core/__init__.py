"""Settings, database, migrations, errors, i18n and other shared foundations. Imports libraries only."""
