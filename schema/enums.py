"""The enums of the contract (schema.graphql), as strawberry enums. Values equal names, so the
database's text values serialize as they are."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Levels of the organisation, top to bottom.")
class Level(str, Enum):
    STATE = "STATE"
    REGION = "REGION"
    DISTRICT = "DISTRICT"
    MANDAL = "MANDAL"
    BOOTH = "BOOTH"


@strawberry.enum
class Role(str, Enum):
    STATE_PRESIDENT = "STATE_PRESIDENT"
    STATE_GENERAL_SECRETARY = "STATE_GENERAL_SECRETARY"
    REGIONAL_PRESIDENT = "REGIONAL_PRESIDENT"
    REGIONAL_INCHARGE = "REGIONAL_INCHARGE"
    DISTRICT_PRESIDENT = "DISTRICT_PRESIDENT"
    DISTRICT_INCHARGE = "DISTRICT_INCHARGE"
    DISTRICT_CONVENOR = "DISTRICT_CONVENOR"
    DISTRICT_CO_CONVENOR = "DISTRICT_CO_CONVENOR"
    IT_CONVENOR = "IT_CONVENOR"
    SOCIAL_MEDIA_CONVENOR = "SOCIAL_MEDIA_CONVENOR"
    OFFICE_SECRETARY = "OFFICE_SECRETARY"
    MANDAL_PRESIDENT = "MANDAL_PRESIDENT"
    BOOTH_PRESIDENT = "BOOTH_PRESIDENT"
    CALLER = "CALLER"
    PAGE_INCHARGE = "PAGE_INCHARGE"  # one roll page of a booth (docs/pages.md)


@strawberry.enum
class Gender(str, Enum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    THIRD_GENDER = "THIRD_GENDER"


@strawberry.enum
class CasteCategory(str, Enum):
    GEN = "GEN"
    OBC = "OBC"
    SC = "SC"
    ST = "ST"


@strawberry.enum
class EconomicStatus(str, Enum):
    BPL = "BPL"
    LOW_INCOME = "LOW_INCOME"
    MIDDLE_INCOME = "MIDDLE_INCOME"
    HIGH_INCOME = "HIGH_INCOME"


@strawberry.enum
class ContactConsent(str, Enum):
    GRANTED = "GRANTED"
    DENIED = "DENIED"
    UNKNOWN = "UNKNOWN"


@strawberry.enum
class CallOutcome(str, Enum):
    REACHED = "REACHED"
    NO_ANSWER = "NO_ANSWER"
    WRONG_NUMBER = "WRONG_NUMBER"
    REFUSED = "REFUSED"
    CALL_BACK = "CALL_BACK"


@strawberry.enum
class VoterOrder(str, Enum):
    SERIAL = "SERIAL"
    NAME = "NAME"
    AGE = "AGE"
