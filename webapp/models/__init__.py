"""Every model, importable from one place (Alembic sees them all through this module)."""

from webapp.models.audit import AuditEvent
from webapp.models.ingest import IngestReject, StorageEvent
from webapp.models.org import Hospital, Organization
from webapp.models.patient import Patient, PatientIdentifier
from webapp.models.pipeline_run import PipelineRun
from webapp.models.record import RECORD_KINDS, MedicalRecord, PatientCost
from webapp.models.second_factor import AppSetting, RecoveryCode, UnknownLogin
from webapp.models.user import Permission, Role, User, role_permission

__all__ = [
    "RECORD_KINDS",
    "AppSetting",
    "AuditEvent",
    "Hospital",
    "IngestReject",
    "MedicalRecord",
    "Organization",
    "Patient",
    "PatientCost",
    "PatientIdentifier",
    "Permission",
    "PipelineRun",
    "RecoveryCode",
    "Role",
    "StorageEvent",
    "UnknownLogin",
    "User",
    "role_permission",
]
