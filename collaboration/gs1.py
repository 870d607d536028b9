"""GS1 numbers the shipment side needs: the mod-10 check digit and the SSCC (AI 00).

An SSCC is 18 digits: an extension digit, a GS1 Company Prefix (6 to 12 digits), a serial
reference filling the rest of the first 17 digits, and the check digit. The prefix belongs to
whoever builds the logistic unit (the supplier), or to the buyer when it hands out SSCCs to
suppliers without one.
"""
from __future__ import annotations

SSCC_LENGTH = 18
PREFIX_LENGTHS = range(6, 13)


class InvalidNumber(ValueError):
    """A GS1 number that is not well formed; the message says why, for a person."""


def check_digit(digits: str) -> int:
    """GS1 mod-10: weights 3, 1, 3, ... from the rightmost digit; the digit that makes the sum a multiple of 10."""
    if not digits.isdigit():
        raise InvalidNumber("Only digits have a GS1 check digit.")
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def sscc_validate(text: str) -> str:
    """The SSCC in its plain 18-digit form; accepts a leading "(00)" or "00" and spaces as printed on labels."""
    digits = "".join(text.split())
    if digits.startswith("(00)"):
        digits = digits[4:]
    elif len(digits) == SSCC_LENGTH + 2 and digits.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit():
        raise InvalidNumber("An SSCC has digits only.")
    if len(digits) != SSCC_LENGTH:
        raise InvalidNumber(f"An SSCC has {SSCC_LENGTH} digits, not {len(digits)}.")
    expected = check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InvalidNumber(f"The check digit of SSCC {digits} should be {expected}.")
    return digits


def company_prefix_validate(prefix: str) -> str:
    prefix = prefix.strip()
    if not prefix.isdigit() or len(prefix) not in PREFIX_LENGTHS:
        raise InvalidNumber(
            f"A GS1 Company Prefix has {PREFIX_LENGTHS.start} to {PREFIX_LENGTHS.stop - 1} digits."
        )
    return prefix


def sscc_compose(*, extension: int, prefix: str, serial: int) -> str:
    """The SSCC for a serial reference under a prefix; raises when the serial does not fit."""
    prefix = company_prefix_validate(prefix)
    if not 0 <= extension <= 9:
        raise InvalidNumber("The extension digit is 0 to 9.")
    width = SSCC_LENGTH - 2 - len(prefix)
    if not 0 <= serial < 10**width:
        raise InvalidNumber(f"Serial reference {serial} does not fit in {width} digits under prefix {prefix}.")
    body = f"{extension}{prefix}{serial:0{width}d}"
    return body + str(check_digit(body))
