"""The audit log: who changed what in a member's administration (users and roles, API
clients, webhook endpoints, processes, contacts, products, communities, the member
profile), for that member's admins. Entries are written by receivers of the other
packages' signals, inside the transaction of the change, and never hold a secret or a
token."""
