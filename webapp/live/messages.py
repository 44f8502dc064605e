"""What the hub carries to sockets: a rendered change, or the signal to resynchronise."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Push:
    """What a change becomes on the wire: the /costs row, and the open chart's cost block
    (on the last change of a patient in a batch; empty on the others)."""

    patient_id: int
    costs_html: str
    chart_html: str
    # Hospitals whose doctors may see the patient; others get it only under break-the-glass.
    hospital_ids: frozenset[int] = frozenset()


RESYNC = object()  # changes may have been missed: the socket closes so its client refreshes
