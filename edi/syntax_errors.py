"""UN/EDIFACT service code list 0085 (Syntax error, coded): the codes a CONTRL answer carries.

Names follow ISO 9735 syntax version 4 (service code list release 4.x); code 1 and 3–11 of the
old version-1/2 list are deliberately absent because syntax 3 and 4 dropped them.
"""
from __future__ import annotations

from enum import StrEnum


class SyntaxErrorCode(StrEnum):
    SYNTAX_VERSION_OR_LEVEL_NOT_SUPPORTED = "2"
    RECIPIENT_NOT_ACTUAL_RECIPIENT = "7"
    INVALID_VALUE = "12"
    MISSING = "13"
    VALUE_NOT_SUPPORTED_IN_POSITION = "14"
    NOT_SUPPORTED_IN_POSITION = "15"
    TOO_MANY_CONSTITUENTS = "16"
    NO_AGREEMENT = "17"
    UNSPECIFIED_ERROR = "18"
    INVALID_DECIMAL_NOTATION = "19"
    CHARACTER_INVALID_AS_SERVICE_CHARACTER = "20"
    INVALID_CHARACTERS = "21"
    INVALID_SERVICE_CHARACTERS = "22"
    UNKNOWN_INTERCHANGE_SENDER = "23"
    TOO_OLD = "24"
    TEST_INDICATOR_NOT_SUPPORTED = "25"
    DUPLICATE_DETECTED = "26"
    SECURITY_FUNCTION_NOT_SUPPORTED = "27"
    REFERENCES_DO_NOT_MATCH = "28"
    CONTROL_COUNT_DOES_NOT_MATCH = "29"
    GROUPS_AND_MESSAGES_MIXED = "30"
    MORE_THAN_ONE_MESSAGE_TYPE_IN_GROUP = "31"
    LOWER_LEVEL_EMPTY = "32"
    INVALID_OCCURRENCE_OUTSIDE_MESSAGE = "33"
    NESTING_INDICATOR_NOT_ALLOWED = "34"
    TOO_MANY_REPETITIONS = "35"
    TOO_MANY_SEGMENT_GROUP_REPETITIONS = "36"
    INVALID_TYPE_OF_CHARACTERS = "37"
    MISSING_DIGIT_BEFORE_DECIMAL_SIGN = "38"
    DATA_ELEMENT_TOO_LONG = "39"
    DATA_ELEMENT_TOO_SHORT = "40"
    PERMANENT_COMMUNICATION_NETWORK_ERROR = "41"
    TEMPORARY_COMMUNICATION_NETWORK_ERROR = "42"
    UNKNOWN_INTERCHANGE_RECIPIENT = "43"
    TRAILING_SEPARATOR = "45"
    CHARACTER_SET_NOT_SUPPORTED = "46"
    ENVELOPE_FUNCTIONALITY_NOT_SUPPORTED = "47"
    DEPENDENCY_CONDITION_VIOLATED = "48"

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS: dict[SyntaxErrorCode, str] = {
    SyntaxErrorCode.SYNTAX_VERSION_OR_LEVEL_NOT_SUPPORTED: "Syntax version or level not supported",
    SyntaxErrorCode.RECIPIENT_NOT_ACTUAL_RECIPIENT: "Interchange recipient not actual recipient",
    SyntaxErrorCode.INVALID_VALUE: "Invalid value",
    SyntaxErrorCode.MISSING: "Missing",
    SyntaxErrorCode.VALUE_NOT_SUPPORTED_IN_POSITION: "Value not supported in this position",
    SyntaxErrorCode.NOT_SUPPORTED_IN_POSITION: "Not supported in this position",
    SyntaxErrorCode.TOO_MANY_CONSTITUENTS: "Too many constituents",
    SyntaxErrorCode.NO_AGREEMENT: "No agreement",
    SyntaxErrorCode.UNSPECIFIED_ERROR: "Unspecified error",
    SyntaxErrorCode.INVALID_DECIMAL_NOTATION: "Invalid decimal notation",
    SyntaxErrorCode.CHARACTER_INVALID_AS_SERVICE_CHARACTER: "Character invalid as service character",
    SyntaxErrorCode.INVALID_CHARACTERS: "Invalid character(s)",
    SyntaxErrorCode.INVALID_SERVICE_CHARACTERS: "Invalid service character(s)",
    SyntaxErrorCode.UNKNOWN_INTERCHANGE_SENDER: "Unknown Interchange sender",
    SyntaxErrorCode.TOO_OLD: "Too old",
    SyntaxErrorCode.TEST_INDICATOR_NOT_SUPPORTED: "Test indicator not supported",
    SyntaxErrorCode.DUPLICATE_DETECTED: "Duplicate detected",
    SyntaxErrorCode.SECURITY_FUNCTION_NOT_SUPPORTED: "Security function not supported",
    SyntaxErrorCode.REFERENCES_DO_NOT_MATCH: "References do not match",
    SyntaxErrorCode.CONTROL_COUNT_DOES_NOT_MATCH: "Control count does not match number of instances received",
    SyntaxErrorCode.GROUPS_AND_MESSAGES_MIXED: "Groups and messages/packages mixed",
    SyntaxErrorCode.MORE_THAN_ONE_MESSAGE_TYPE_IN_GROUP: "More than one message type in group",
    SyntaxErrorCode.LOWER_LEVEL_EMPTY: "Lower level empty",
    SyntaxErrorCode.INVALID_OCCURRENCE_OUTSIDE_MESSAGE: "Invalid occurrence outside message, package or group",
    SyntaxErrorCode.NESTING_INDICATOR_NOT_ALLOWED: "Nesting indicator not allowed",
    SyntaxErrorCode.TOO_MANY_REPETITIONS: "Too many data element or segment repetitions",
    SyntaxErrorCode.TOO_MANY_SEGMENT_GROUP_REPETITIONS: "Too many segment group repetitions",
    SyntaxErrorCode.INVALID_TYPE_OF_CHARACTERS: "Invalid type of character(s)",
    SyntaxErrorCode.MISSING_DIGIT_BEFORE_DECIMAL_SIGN: "Missing digit in front of decimal sign",
    SyntaxErrorCode.DATA_ELEMENT_TOO_LONG: "Data element too long",
    SyntaxErrorCode.DATA_ELEMENT_TOO_SHORT: "Data element too short",
    SyntaxErrorCode.PERMANENT_COMMUNICATION_NETWORK_ERROR: "Permanent communication network error",
    SyntaxErrorCode.TEMPORARY_COMMUNICATION_NETWORK_ERROR: "Temporary communication network error",
    SyntaxErrorCode.UNKNOWN_INTERCHANGE_RECIPIENT: "Unknown interchange recipient",
    SyntaxErrorCode.TRAILING_SEPARATOR: "Trailing separator",
    SyntaxErrorCode.CHARACTER_SET_NOT_SUPPORTED: "Character set not supported",
    SyntaxErrorCode.ENVELOPE_FUNCTIONALITY_NOT_SUPPORTED: "Envelope functionality not supported",
    SyntaxErrorCode.DEPENDENCY_CONDITION_VIOLATED: "Dependency condition violated",
}
