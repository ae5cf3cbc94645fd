"""The project's own synthetic demo data: the six CSV files of csv-format.md, any of three sizes.

    write_demo_dataset(Path("demo"), "small", seed=1)     # ~100k voters
    demo_users(Path("demo"))                             # [(role, user_id, unit_code), ...]

Nothing is real. Phone numbers all start with 5 (no Indian mobile number does), caste
sub-groups are neutral codes (OBC-07), EPIC numbers are made up, and names are common Uttar
Pradesh names drawn at random, in English and Devanagari. The output is a pure function of
(preset, seed), written booth by booth, so memory stays flat at any size.

Organisation: state UP; regions; districts; mandals; booths. Assignments give every one of
the 14 roles at least one holder (IT_CONVENOR at the state and in each district, CALLERs at a
district, a mandal and a booth), one user holds two assignments (the first mandal's president
is also a caller there) and the last user holds none.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transfer.spec import FILES, ROLE_LEVELS
from transfer.spreadsheet import escape_cell


@dataclass(frozen=True)
class Preset:
    regions: int
    districts_per_region: int
    mandals_per_district: int
    booths_per_mandal: int
    voters_per_booth: int  # on average; each booth varies by up to 15% either way


PRESETS = {
    "tiny": Preset(2, 2, 2, 2, 125),  # 16 booths, ~2,000 voters
    "small": Preset(3, 2, 4, 4, 1040),  # 96 booths, ~100,000 voters
    "medium": Preset(6, 2, 10, 8, 1040),  # 960 booths, ~1,000,000 voters
}

REGIONS = [  # code, name, name_hi, districts (code, name, name_hi)
    ("AWD", "Awadh", "अवध", [("LKO", "Lucknow", "लखनऊ"), ("BBK", "Barabanki", "बाराबंकी")]),
    ("KSI", "Kashi", "काशी", [("VNS", "Varanasi", "वाराणसी"), ("JNP", "Jaunpur", "जौनपुर")]),
    ("GKP", "Gorakhpur", "गोरखपुर", [("GKP", "Gorakhpur", "गोरखपुर"), ("DEO", "Deoria", "देवरिया")]),
    ("KNP", "Kanpur", "कानपुर", [("KNU", "Kanpur Nagar", "कानपुर नगर"), ("JHS", "Jhansi", "झांसी")]),
    ("BRJ", "Braj", "ब्रज", [("AGR", "Agra", "आगरा"), ("MTR", "Mathura", "मथुरा")]),
    ("PSC", "Paschim", "पश्चिम", [("MRT", "Meerut", "मेरठ"), ("SRE", "Saharanpur", "सहारनपुर")]),
]

VILLAGES = [
    ("Amethi", "अमेठी"),
    ("Bakshi Ka Talab", "बख्शी का तालाब"),
    ("Chinhat", "चिनहट"),
    ("Dewa", "देवा"),
    ("Fatehpur", "फतेहपुर"),
    ("Gosaiganj", "गोसाईगंज"),
    ("Haidergarh", "हैदरगढ़"),
    ("Itaunja", "इटौंजा"),
    ("Jaitpur", "जैतपुर"),
    ("Kursi", "कुर्सी"),
    ("Lalpur", "लालपुर"),
    ("Mall", "माल"),
    ("Nigohan", "निगोहां"),
    ("Pipri", "पिपरी"),
    ("Rampur Kalan", "रामपुर कलां"),
    ("Sarojini Nagar", "सरोजिनी नगर"),
    ("Tikaitganj", "टिकैतगंज"),
    ("Umari", "उमरी"),
    ("Bhitauli", "भिटौली"),
    ("Sikandra", "सिकंदरा"),
    ("Khajuri", "खजुरी"),
    ("Semra", "सेमरा"),
    ("Dhaurahra", "धौरहरा"),
    ("Barauli", "बरौली"),
]
PLACES = [
    ("Prathmik Vidyalaya", "प्राथमिक विद्यालय"),
    ("Uchch Prathmik Vidyalaya", "उच्च प्राथमिक विद्यालय"),
    ("Panchayat Ghar", "पंचायत घर"),
    ("Anganwadi Bhawan", "आंगनवाड़ी भवन"),
    ("Kisan Inter College", "किसान इंटर कॉलेज"),
]
MEN = [
    ("Ramesh", "रमेश"),
    ("Suresh", "सुरेश"),
    ("Dinesh", "दिनेश"),
    ("Rajendra", "राजेंद्र"),
    ("Vijay", "विजय"),
    ("Ajay", "अजय"),
    ("Sanjay", "संजय"),
    ("Manoj", "मनोज"),
    ("Pankaj", "पंकज"),
    ("Anil", "अनिल"),
    ("Sunil", "सुनील"),
    ("Rakesh", "राकेश"),
    ("Mukesh", "मुकेश"),
    ("Arvind", "अरविंद"),
    ("Ashok", "अशोक"),
    ("Pramod", "प्रमोद"),
    ("Vinod", "विनोद"),
    ("Santosh", "संतोष"),
    ("Deepak", "दीपक"),
    ("Rahul", "राहुल"),
    ("Amit", "अमित"),
    ("Vikas", "विकास"),
    ("Gaurav", "गौरव"),
    ("Shivam", "शिवम"),
    ("Ankit", "अंकित"),
    ("Raju", "राजू"),
    ("Kallu", "कल्लू"),
    ("Imran", "इमरान"),
    ("Salim", "सलीम"),
    ("Rizwan", "रिज़वान"),
]
WOMEN = [
    ("Sunita", "सुनीता"),
    ("Anita", "अनीता"),
    ("Kiran", "किरन"),
    ("Rekha", "रेखा"),
    ("Pushpa", "पुष्पा"),
    ("Savitri", "सावित्री"),
    ("Geeta", "गीता"),
    ("Meena", "मीना"),
    ("Neelam", "नीलम"),
    ("Pooja", "पूजा"),
    ("Priyanka", "प्रियंका"),
    ("Shalini", "शालिनी"),
    ("Kamla", "कमला"),
    ("Urmila", "उर्मिला"),
    ("Rani", "रानी"),
    ("Sangeeta", "संगीता"),
    ("Mamta", "ममता"),
    ("Seema", "सीमा"),
    ("Nisha", "निशा"),
    ("Khushboo", "खुशबू"),
    ("Shabnam", "शबनम"),
    ("Nazia", "नाज़िया"),
    ("Rubina", "रुबीना"),
    ("Saira", "सायरा"),
]
SURNAMES = [
    ("Yadav", "यादव"),
    ("Verma", "वर्मा"),
    ("Maurya", "मौर्य"),
    ("Pal", "पाल"),
    ("Kushwaha", "कुशवाहा"),
    ("Nishad", "निषाद"),
    ("Prajapati", "प्रजापति"),
    ("Rajbhar", "राजभर"),
    ("Pandey", "पांडेय"),
    ("Shukla", "शुक्ला"),
    ("Tiwari", "तिवारी"),
    ("Singh", "सिंह"),
    ("Chauhan", "चौहान"),
    ("Gupta", "गुप्ता"),
    ("Agrahari", "अग्रहरि"),
    ("Kumar", "कुमार"),
    ("Gautam", "गौतम"),
    ("Rawat", "रावत"),
    ("Sonkar", "सोनकर"),
    ("Ansari", "अंसारी"),
    ("Khan", "ख़ान"),
    ("Siddiqui", "सिद्दीक़ी"),
    ("Saini", "सैनी"),
    ("Lodhi", "लोधी"),
]
# category, share of the electorate, number of neutral sub-group codes
CASTES = [("GEN", 0.20, 9), ("OBC", 0.44, 25), ("SC", 0.33, 14), ("ST", 0.03, 4)]
ECONOMIC = [("BPL", 0.30), ("LOW_INCOME", 0.40), ("MIDDLE_INCOME", 0.24), ("HIGH_INCOME", 0.06)]
SCHEMES = [  # code, name, name_hi, launched
    ("PMAY-G", "Pradhan Mantri Awas Yojana (Gramin)", "प्रधानमंत्री आवास योजना (ग्रामीण)", dt.date(2016, 11, 20)),
    ("PMUY", "Pradhan Mantri Ujjwala Yojana", "प्रधानमंत्री उज्ज्वला योजना", dt.date(2016, 5, 1)),
    ("PM-KISAN", "PM Kisan Samman Nidhi", "पीएम किसान सम्मान निधि", dt.date(2019, 2, 24)),
    ("AB-PMJAY", "Ayushman Bharat PM-JAY", "आयुष्मान भारत पीएम-जय", dt.date(2018, 9, 23)),
    ("PMGKAY", "PM Garib Kalyan Anna Yojana", "पीएम गरीब कल्याण अन्न योजना", dt.date(2020, 4, 1)),
    ("NSAP", "National Social Assistance Programme", "राष्ट्रीय सामाजिक सहायता कार्यक्रम", dt.date(1995, 8, 15)),
]
LAST_SINCE = dt.date(2025, 3, 31)
DISTRICT_ROLES = (
    "DISTRICT_PRESIDENT", "DISTRICT_INCHARGE", "DISTRICT_CONVENOR", "DISTRICT_CO_CONVENOR",
    "IT_CONVENOR", "SOCIAL_MEDIA_CONVENOR", "OFFICE_SECRETARY", "CALLER",
)  # fmt: skip
# voters.csv without its optional `page` (pages of 30 serials); assignments.csv with it (docs/pages.md).
HEADERS = {spec.name: [c.name for c in spec.columns if (spec.name, c.name) != ("voters.csv", "page")] for spec in FILES}
EPIC_SPACE = 10_000_000
EPIC_STRIDE = 3_999_971  # coprime with EPIC_SPACE: n -> n * stride mod space is a permutation


def _pick(rng: random.Random, weighted: list[tuple[Any, ...]]) -> Any:
    r, acc = rng.random(), 0.0
    for item in weighted:
        acc += item[1]
        if r < acc:
            return item
    return weighted[-1]


class _Writer:
    """The six files, open for writing; counts rows; hands out user ids."""

    def __init__(self, out: Path, rng: random.Random) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.rng = rng
        self.files = {name: (out / name).open("w", encoding="utf-8", newline="") for name in HEADERS}
        self.csv = {name: csv.writer(f, lineterminator="\n") for name, f in self.files.items()}
        for name, header in HEADERS.items():
            self.csv[name].writerow(header)
        self.users = 0

    def row(self, name: str, *values: object) -> None:
        self.csv[name].writerow(escape_cell(value) for value in values)

    def user(self) -> str:
        self.users += 1
        uid = f"u-{self.users:06d}"
        women = self.rng.random() < 0.2
        first = self.rng.choice(WOMEN if women else MEN)[0]
        self.row("users.csv", uid, f"{first} {self.rng.choice(SURNAMES)[0]}", _phone(self.rng))
        return uid

    def assign(self, role: str, code: str, user: str | None = None, page: int | None = None) -> str:
        uid = user or self.user()
        self.row("assignments.csv", uid, role, code, "" if page is None else page)
        return uid

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def _phone(rng: random.Random) -> str:
    return "5" + "".join(rng.choices("0123456789", k=9))


def _households(rng: random.Random, n: int) -> Iterator[list[tuple[str, str, int, str, str]]]:
    """Households of 1-6 adults: (first name, first name in Devanagari, age, gender, role)."""
    left = n
    while left > 0:
        size = min(left, rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6)))
        head_age = rng.randint(24, 85)
        head_man = rng.random() < 0.88
        people = [(*rng.choice(MEN if head_man else WOMEN), head_age, "MALE" if head_man else "FEMALE", "head")]
        if size > 1:
            spouse_man = not head_man
            age = max(18, head_age + rng.randint(-7, 3))
            people.append(
                (*rng.choice(MEN if spouse_man else WOMEN), age, "MALE" if spouse_man else "FEMALE", "spouse")
            )
        while len(people) < size:
            age = head_age - rng.randint(18, 32)
            if age < 18:
                break
            man = rng.random() < 0.55
            people.append((*rng.choice(MEN if man else WOMEN), age, "MALE" if man else "FEMALE", "child"))
        left -= len(people)
        yield people


def write_demo_dataset(out: Path, preset: str = "small", seed: int = 1) -> dict[str, int]:
    """Write the six CSV files into `out` (created); returns the data rows per file."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    rng = random.Random(f"boothgraph-demo:{preset}:{seed}")
    w = _Writer(Path(out), rng)
    counts = dict.fromkeys(HEADERS, 0)
    try:
        for code, name, name_hi, _ in SCHEMES:
            w.row("schemes.csv", code, name, name_hi)
        w.row("units.csv", "UP", "", "STATE", "Uttar Pradesh", "उत्तर प्रदेश")
        for role in ("STATE_PRESIDENT", "STATE_GENERAL_SECRETARY", "IT_CONVENOR"):
            w.assign(role, "UP")
        letters = [a + b + c for a in "BCDFGHJKLMNPRSTVWXYZ" for b in "AEIOU" for c in "BCDFGHJKLMNPRSTVWXYZ"]
        rng.shuffle(letters)
        for r_index, (rcode, rname, rname_hi, districts) in enumerate(REGIONS[: p.regions]):
            region = f"UP-{rcode}"
            w.row("units.csv", region, "UP", "REGION", rname, rname_hi)
            w.assign("REGIONAL_PRESIDENT", region)
            w.assign("REGIONAL_INCHARGE", region)
            for d_index, (dcode, dname, dname_hi) in enumerate(districts[: p.districts_per_region]):
                district = f"{region}-{dcode}"
                w.row("units.csv", district, region, "DISTRICT", dname, dname_hi)
                for role in DISTRICT_ROLES:
                    w.assign(role, district)
                epic = _Epics(letters[r_index * 2 + d_index], rng.randrange(EPIC_SPACE))
                villages = rng.sample(VILLAGES, len(VILLAGES))
                for m in range(p.mandals_per_district):
                    mandal = f"{district}-M{m + 1:02d}"
                    town, town_hi = villages[m % len(villages)]
                    w.row("units.csv", mandal, district, "MANDAL", town, town_hi)
                    president = w.assign("MANDAL_PRESIDENT", mandal)
                    if m == 0:
                        w.assign("CALLER", mandal, president)  # one user, two assignments
                    for b in range(p.booths_per_mandal):
                        booth = f"{mandal}-B{b + 1:04d}"
                        place, place_hi = PLACES[(m + b) % len(PLACES)]
                        room = b % 3 + 1
                        w.row("units.csv", booth, mandal, "BOOTH", f"{place} {town}, Room {room}",
                              f"{place_hi} {town_hi}, कक्ष {room}")  # fmt: skip
                        w.assign("BOOTH_PRESIDENT", booth)
                        if b == 0:
                            w.assign("CALLER", booth)
                            w.assign("PAGE_INCHARGE", booth, page=1)  # पन्ना प्रमुख of the roll's first page
                        size = round(p.voters_per_booth * rng.uniform(0.85, 1.15))
                        _booth_voters(w, rng, booth, size, epic, counts)
        w.user()  # an official without any assignment
    finally:
        w.close()
    for name in HEADERS:
        with (Path(out) / name).open("rb") as f:
            counts[name] = sum(1 for _ in f) - 1
    return counts


class _Epics:
    """Unique EPIC numbers of one district: its 3 letters and a permuted 7-digit counter."""

    def __init__(self, letters: str, offset: int) -> None:
        self.letters, self.offset, self.n = letters, offset, 0

    def next(self) -> str:
        self.n += 1
        return f"{self.letters}{(self.offset + self.n * EPIC_STRIDE) % EPIC_SPACE:07d}"


def _booth_voters(w: _Writer, rng: random.Random, booth: str, n: int, epic: _Epics, counts: dict[str, int]) -> None:
    serial, house = 0, rng.randint(1, 30)
    for people in _households(rng, n):
        surname, surname_hi = rng.choice(SURNAMES)
        father = f"{rng.choice(MEN)[0]} {surname}"
        house += rng.randint(1, 4)
        house_number = str(house) if rng.random() < 0.85 else (f"{house}A" if rng.random() < 0.7 else "")
        surveyed = rng.random() < 0.7
        category, _, groups = _pick(rng, CASTES) if surveyed else (None, 0, 0)
        caste = f"{category}-{rng.randint(1, groups):02d}" if category and rng.random() < 0.95 else None
        economic = _pick(rng, ECONOMIC)[0] if surveyed and rng.random() < 0.95 else None
        head = f"{people[0][0]} {surname}"
        for first, first_hi, age, gender, role in people:
            serial += 1
            voter = epic.next()
            phone = _phone(rng) if rng.random() < 0.6 else ""
            r = rng.random()
            consent = "DENIED" if r < 0.05 else ("GRANTED" if r < 0.25 else "UNKNOWN")
            if rng.random() < 0.0008:
                gender = "THIRD_GENDER"
            relative = father if role == "head" else head
            w.row("voters.csv", voter, booth, serial, f"{first} {surname}", f"{first_hi} {surname_hi}", relative,
                  age, gender, house_number, phone, category or "", caste or "", economic or "", consent)  # fmt: skip
            chance = {"BPL": 0.6, "LOW_INCOME": 0.4, None: 0.3}.get(economic, 0.1)
            if rng.random() < chance:
                for code, _, _, launched in rng.sample(SCHEMES, rng.choice((1, 1, 2))):
                    if code == "PMUY" and gender != "FEMALE" or code == "NSAP" and age < 60:
                        continue
                    days = (LAST_SINCE - launched).days
                    since = "" if rng.random() < 0.05 else (launched + dt.timedelta(rng.randrange(days))).isoformat()
                    w.row("beneficiaries.csv", voter, code, since)


def demo_users(folder: Path) -> list[tuple[str, str, str]]:
    """One (role, user_id, unit_code) per role found in folder/assignments.csv, in the order
    of the roles' table (access-policy.md): the first holder of each."""
    first: dict[str, tuple[str, str, str]] = {}
    with (Path(folder) / "assignments.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            first.setdefault(row["role"], (row["role"], row["user_id"], row["unit_code"]))
    return [first[role] for role in ROLE_LEVELS if role in first]
