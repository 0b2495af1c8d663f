"""What every package needs: database, auth and roles, audit log, i18n, errors, the base layout."""
