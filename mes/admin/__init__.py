"""Administration: users and roles, shop-floor kiosk devices, API tokens, the audit log."""
