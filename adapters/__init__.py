"""labledger adapters: one subpackage per external system, and the use cases that combine them.

The subpackages (`alyx`, `watchdog`, `database`, `filesystem`) each talk to one system. The modules
beside them are what the commands and the Python API call: `registration` (scan and register;
its parts are `registration_core`, `registration_requests`, `new_sessions` and `weighings_water`),
`registration_client` (ONE's RegistrationClient), `sync` (perform pending work), `executors`
(which executors this installation has), `retry_refused`, `settings` (the file and variables it
reads come through `settings_sources`) and `identity`.
"""
