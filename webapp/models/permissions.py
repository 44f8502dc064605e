"""The permissions the product knows and which role holds them."""

USERS_MANAGE = "users:manage"
AUDIT_READ = "audit:read"
PIPELINE_RUN = "pipeline:run"
PATIENTS_READ = "patients:read"

AIPHAS = "AIPHAS"
DOCTOR = "DOCTOR"

PERMISSION_DESCRIPTIONS = {
    USERS_MANAGE: "Create, edit, deactivate and unlock user accounts",
    AUDIT_READ: "Read and export the audit log",
    PIPELINE_RUN: "Watch and start ingestion runs",
    PATIENTS_READ: "Search patients and read their charts and costs",
}

ROLE_PERMISSIONS = {
    AIPHAS: (USERS_MANAGE, AUDIT_READ, PIPELINE_RUN),
    DOCTOR: (PATIENTS_READ,),
}

# Where each role lands after signing in, by the permission that page needs.
LANDING_ENDPOINTS = (
    (USERS_MANAGE, "admin.users"),
    (PATIENTS_READ, "clinic.patients"),
)
