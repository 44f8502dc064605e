"""medical_record's patient foreign key, checked once per patient instead of once per row.

PostgreSQL checks a foreign key with a trigger per written row: at a million records that is a
million lookups of the same few thousand patients (about 3 s, and the NULL duplicate_of_id is
queued and checked too). While the load's record statements run, this transaction sets
session_replication_role to replica, so those triggers do not fire; the constraints stay in
place for everyone else. The same guarantee is then given set-based: every patient the records
point at is locked FOR KEY SHARE, as the trigger's own check locks it (so nobody can delete it
before this load commits), and must exist, or the load fails as the trigger would have.

Only a role that may change the setting (a superuser) takes this path; any other keeps the
triggers. The runtime role of `flask db-grant` is not given it on purpose: the same setting
would let it switch off the audit tables' append-only triggers.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

# Statement-level: the triggers of whatever runs inside are skipped, not deferred.
REPLICA = "SELECT set_config('session_replication_role', 'replica', true)"
RESTORE = "SELECT set_config('session_replication_role', :role, true)"
ALLOWED = """
SELECT current_setting('session_replication_role') = 'origin'
   AND (current_setting('is_superuser') = 'on'
        OR (current_setting('server_version_num')::int >= 150000
            AND has_parameter_privilege('session_replication_role', 'SET')))
"""
# The patients wanted, and how many of them exist, each locked as the trigger locks it.
LOCK_PATIENTS = """
WITH wanted AS MATERIALIZED ({patients})
SELECT (SELECT count(DISTINCT patient_id) FROM wanted),
       (SELECT count(*) FROM (SELECT id FROM patient WHERE id IN (SELECT patient_id FROM wanted)
                              FOR KEY SHARE) locked)
"""


class MissingPatient(Exception):
    """A loaded record points at a patient that does not exist (a foreign-key violation)."""


def may_skip_triggers(connection) -> bool:
    """Whether this role may turn the per-row foreign-key triggers off for its transaction."""
    return bool(connection.execute(text(ALLOWED)).scalar())


@contextmanager
def patients_checked_once(connection, patients: str) -> Iterator[None]:
    """Run the block without per-row FK triggers, then lock and check `patients` set-based.

    `patients` is a query whose patient_id column holds every patient the block's statements
    may have written into medical_record.
    """
    if not may_skip_triggers(connection):
        yield
        return
    connection.execute(text(REPLICA))
    # On an error the transaction rolls back, and the setting with it.
    yield
    connection.execute(text(RESTORE), {"role": "origin"})
    check_patients(connection, patients)


def check_patients(connection, patients: str) -> None:
    """Lock the patients of the query FOR KEY SHARE; raise MissingPatient if one is gone."""
    wanted, found = connection.execute(text(LOCK_PATIENTS.format(patients=patients))).one()
    if found != wanted:
        raise MissingPatient(
            f"medical_record would point at {wanted - found} patient(s) that do not exist"
        )
