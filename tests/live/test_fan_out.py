"""One change, many sockets: its row is rendered once and written by the process's one sender."""

from datetime import date

from flask import template_rendered

from tests.support.factories import make_patient, make_record
from tests.support.sockets import connect, receive_until, wait_listening
from webapp.services.costs.recompute import recompute_costs

SOCKETS = 6


def test_a_change_is_rendered_once_for_every_open_socket(server, live_app, doctor, db):
    ana = make_patient()
    sockets = [connect(server, doctor) for _ in range(SOCKETS)]
    rendered: list[str] = []

    def count(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(count, live_app)
    try:
        wait_listening(live_app)
        make_record(ana, date(2025, 10, 4), "42.00")
        recompute_costs([ana.id])
        db.session.commit()
        for ws in sockets:
            receive_until(ws, lambda m: f'id="cost-{ana.id}-2025-10"' in m)
        assert rendered.count("clinic/_cost_row.html") == 1, rendered
        assert live_app.extensions["live"].sender.is_alive()
    finally:
        template_rendered.disconnect(count, live_app)
        for ws in sockets:
            ws.close()
