"""GS1 check digits and SSCCs, checked against hand-computed numbers."""
import pytest

from collaboration.gs1 import InvalidNumber, check_digit, sscc_compose, sscc_validate


def test_check_digit_weights_three_from_the_right():
    # 0 0614141 123456789: 9*3 + 8 + 7*3 + 6 + 5*3 + 4 + 3*3 + 2 + 1*3 + 1 + 4*3 + 1 + 4*3 + 1 + 6*3 = 140 -> 0
    assert check_digit("00614141123456789") == 0
    assert check_digit("00614141123456788") == 3  # 137 -> 3
    # A GTIN-13 body: 400638133393 -> 1
    assert check_digit("400638133393") == 1


def test_sscc_is_composed_from_extension_prefix_and_serial():
    assert sscc_compose(extension=0, prefix="0614141", serial=123456789) == "006141411234567890"
    # 3 4012345 000000007: 7*3 + 5 + 4*3 + 3 + 2*3 + 1 + 0 + 4 + 3*3 = 61 -> 9
    assert sscc_compose(extension=3, prefix="4012345", serial=7) == "340123450000000079"
    with pytest.raises(InvalidNumber, match="does not fit"):
        sscc_compose(extension=0, prefix="4012345678", serial=10**6)
    with pytest.raises(InvalidNumber, match="Company Prefix"):
        sscc_compose(extension=0, prefix="12345", serial=1)


@pytest.mark.parametrize("printed", ["006141411234567890", "(00) 0061 4141 1234 5678 90", "00006141411234567890"])
def test_sscc_as_printed_on_labels_is_accepted(printed):
    assert sscc_validate(printed) == "006141411234567890"


@pytest.mark.parametrize(("text", "message"), [
    ("006141411234567898", "check digit of SSCC 006141411234567898 should be 0"),
    ("00614141123456789", "18 digits, not 17"),
    ("0061414112345678A0", "digits only"),
    ("", "digits only"),
])
def test_bad_sscc_says_what_is_wrong(text, message):
    with pytest.raises(InvalidNumber, match=message):
        sscc_validate(text)


def test_ssccs_are_allocated_gap_free_under_the_suppliers_prefix(nordwerk, alpenguss, settings):
    from collaboration.services import sscc_allocate

    settings.GS1_COMPANY_PREFIX = "4012345"
    nordwerk.gs1_company_prefix = "0614141"
    nordwerk.save()
    first = sscc_allocate(supplier=nordwerk, count=2)
    assert first == [sscc_compose(extension=0, prefix="0614141", serial=1), sscc_compose(extension=0, prefix="0614141", serial=2)]
    assert sscc_allocate(supplier=nordwerk) == [sscc_compose(extension=0, prefix="0614141", serial=3)]
    # A supplier without a prefix of its own gets the portal's.
    assert sscc_allocate(supplier=alpenguss) == [sscc_compose(extension=0, prefix="4012345", serial=1)]
    assert all(sscc_validate(number) == number for number in first)


def test_a_rolled_back_allocation_gives_its_serials_back(nordwerk, settings):
    from django.db import transaction

    from collaboration.services import sscc_allocate

    settings.GS1_COMPANY_PREFIX = "4012345"
    with pytest.raises(RuntimeError), transaction.atomic():
        sscc_allocate(supplier=nordwerk, count=5)
        raise RuntimeError("the shipment failed to save")
    assert sscc_allocate(supplier=nordwerk) == [sscc_compose(extension=0, prefix="4012345", serial=1)]


def test_allocation_without_a_prefix_or_out_of_range_is_refused(nordwerk, settings):
    from collaboration.errors import InvalidDocument
    from collaboration.services import sscc_allocate

    settings.GS1_COMPANY_PREFIX = ""
    with pytest.raises(InvalidDocument, match="No GS1 Company Prefix"):
        sscc_allocate(supplier=nordwerk)
    settings.GS1_COMPANY_PREFIX = "12"
    with pytest.raises(InvalidDocument, match="6 to 12 digits"):
        sscc_allocate(supplier=nordwerk)
    settings.GS1_COMPANY_PREFIX = "4012345"
    with pytest.raises(InvalidDocument, match="1 to 10000"):
        sscc_allocate(supplier=nordwerk, count=0)


def test_concurrent_allocations_never_repeat_a_serial(transactional_db, postgres, nordwerk, settings):
    import threading

    from django.db import connection

    from collaboration.services import sscc_allocate

    settings.GS1_COMPANY_PREFIX = "4012345"
    results: list[str] = []
    lock = threading.Lock()

    def allocate() -> None:
        try:
            for _ in range(10):
                numbers = sscc_allocate(supplier=nordwerk, count=3)
                with lock:
                    results.extend(numbers)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {sscc_compose(extension=0, prefix="4012345", serial=n) for n in range(1, 121)}
    assert len(results) == 120 and set(results) == expected
