"""Two workers with the same interchange, or two interchanges needing control references, at the same
moment on PostgreSQL: the unique constraint and the row lock decide; nothing is applied twice."""
import threading

import pytest
from django.db import connection

from collaboration.models import Acknowledgement, RejectionReason
from edi.inbound import receive_file
from edi.models import Interchange
from erp_bridge.models import OutboxMessage
from tests.edi.conftest import interchange, ordrsp
from tests.factories import create_purchase_order


@pytest.fixture(autouse=True)
def _committed(transactional_db):
    RejectionReason.objects.get_or_create(code="capacity", defaults={"label": "No capacity"})


def in_parallel(*calls) -> list:
    """Run the calls in threads of their own (own connections) released at the same moment."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            start.wait(10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_interchange_twice_at_once_is_applied_once(postgres, partner, nordwerk):
    create_purchase_order("PO-1", supplier=nordwerk, line_count=2)
    data = interchange(ordrsp("PO-1", "29"))

    results = in_parallel(*(lambda name=name: receive_file(data, file_name=name)[0] for name in ("a.edi", "b.edi")))

    assert sorted(result.status for result in results) == ["accepted", "duplicate"]
    assert Acknowledgement.objects.count() == 1
    assert OutboxMessage.objects.filter(type="acknowledgement.decided").count() == 1


def test_answers_to_several_interchanges_at_once_get_distinct_control_references(postgres, partner, nordwerk):
    for number in ("PO-1", "PO-2", "PO-3", "PO-4"):
        create_purchase_order(number, supplier=nordwerk)
    calls = [lambda n=n: receive_file(interchange(ordrsp(f"PO-{n}", "29"), ref=f"IC{n}"), file_name=f"{n}.edi")[0]
             for n in range(1, 5)]

    results = in_parallel(*calls)

    assert [result.status for result in results] == ["accepted"] * 4
    references = list(Interchange.objects.filter(direction="out").values_list("control_ref", flat=True))
    assert len(references) == len(set(references)) == 8  # 4 ORDERS, 4 CONTRL
