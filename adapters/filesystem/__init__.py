"""The rig's local disk: session folders walked and hashed, scans recorded, files moved into
revision folders, and files written atomically."""
