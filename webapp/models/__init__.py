"""Every model, importable from one place (Alembic sees them all through this module)."""

from webapp.models.access import BreakGlassGrant, SourceSystem
from webapp.models.audit import AuditCheck, AuditEvent, AuditSeal
from webapp.models.ingest import IngestReject, StorageEvent
from webapp.models.org import Hospital, Organization
from webapp.models.patient import Patient, PatientIdentifier
from webapp.models.pipeline_run import PipelineRun
from webapp.models.record import RECORD_KINDS, MedicalRecord, PatientCost
from webapp.models.second_factor import AppSetting, RecoveryCode, UnknownLogin
from webapp.models.user import Permission, Role, User, role_permission
from webapp.models.user_session import UserSession

__all__ = [
    "RECORD_KINDS",
    "AppSetting",
    "AuditCheck",
    "AuditEvent",
    "AuditSeal",
    "BreakGlassGrant",
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
    "SourceSystem",
    "StorageEvent",
    "UnknownLogin",
    "User",
    "UserSession",
    "role_permission",
]
