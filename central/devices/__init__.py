"""Device provisioning and the broker's authentication files."""
