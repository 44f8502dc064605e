"""Turn a FHIR Claim or ExplanationOfBenefit into a cost fact aimed at the record it prices."""

from pipeline.canonical import Reject, parse_cost
from pipeline.fhir_fast import exact_amount


def _target(res, index):
    """Return (Type, id) of the record a Claim/EOB prices: its prescription, else its encounter."""
    ref = (res.get("prescription") or {}).get("reference")
    rtype = "MedicationRequest"
    if not ref:
        rtype = "Encounter"
        for item in res.get("item") or []:
            encounters = item.get("encounter") if isinstance(item, dict) else None
            if encounters and isinstance(encounters, list):
                ref = (encounters[0] or {}).get("reference")
                if ref:
                    break
    if not ref:
        raise Reject("missing_field", f"{res['resourceType']} has no prescription or encounter")
    if index is not None and ref in index:
        return index[ref]
    if ref.startswith("urn:uuid:"):
        return (rtype, ref[9:])
    parts = ref.split("/")
    return (parts[0], parts[1]) if len(parts) >= 2 else (rtype, ref)


def _eob_amount(res):
    totals = [t for t in res.get("total") or [] if isinstance(t, dict)]
    for total in totals:
        codes = {c.get("code") for c in (total.get("category") or {}).get("coding") or []}
        if "submitted" in codes:
            return (total.get("amount") or {}).get("value")
    return (totals[0].get("amount") or {}).get("value") if totals else None


def cost_fact(res, index):
    """Return {"via": "claim"|"eob", "target": (Type, id), "amount": "12.34"} or raise Reject."""
    if res["resourceType"] == "Claim":
        via, amount, field = "claim", (res.get("total") or {}).get("value"), "Claim.total.value"
    else:
        via, amount, field = "eob", _eob_amount(res), "ExplanationOfBenefit.total"
    if amount is None:
        raise Reject("missing_field", f"{field} is empty")
    amount = str(parse_cost(exact_amount(amount), field))
    return {"via": via, "target": _target(res, index), "amount": amount}
