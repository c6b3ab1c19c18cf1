"""Mirror statistics (pure): what a partner reports exporting to a reporter beside what the
reporter reports importing from it, with a data-quality gate on every row.

The files are real and untidy, so each row carries named flags instead of silent fixes:

- `aggregates_in_country_column`: the reporter's table mixes aggregates (World, EAEU, EU…)
  with countries; they were recognised and never added into a sum of countries;
- `same_partner_two_labels`: one partner appears under two labels in the same year (KG's
  `European Union (EU)` beside `European Union - 27 countries (from 2020)`); the label with
  the larger figure is used, both values are named;
- `member_sum_differs`: the members' sum disagrees with the published aggregate (> 0.5 %);
- `from_member_sum`: no aggregate was published; the members' sum stands in for it;
- `partial_year`: fewer than 12 months of a monthly source (yearly rows);
- `annual_only` (monthly rows): a side publishes only a yearly figure; it is named, never
  spread over the months;
- `third_party_fixed_rate`: a side converted to euro by a third party at a fixed annual rate;
- `suspect_drop`: the reporter's figure fell below a quarter of the year before (a partial
  year published as a whole one, or a break in the series);
- `missing_side`: one side has no figure for the year (no gap is computed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from keruen.analytics.countries import AGGREGATES, MEMBERS, is_aggregate, resolve
from keruen.errors import AnalyticsError

TOLERANCE = Decimal("0.005")  # member sum vs aggregate
SUSPECT_DROP = Decimal("0.25")  # a reporter's figure below a quarter of the year before
EU_FROM_2020 = 2020  # from then on "EU" (changing composition) is the EU27


@dataclass(frozen=True)
class Record:
    """One published figure: `reporter` reports `flow` with `partner` in a year or month."""

    source: str
    reporter: str
    partner: str
    partner_label: str
    flow: str  # EXPORT or IMPORT, as the reporter reports it
    year: int
    month: int | None
    value_eur: Decimal
    converted: str | None = None  # how a third party converted it to euro, if it did
    reporter_label: str = ""


@dataclass
class Side:
    value: Decimal | None = None
    flags: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)


def partner_matches(code: str, wanted: str, year: int) -> bool:
    return code == wanted or (wanted == "EU27" and code == "EU" and year >= EU_FROM_2020)


def by_label(records: Iterable[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        out[r.partner_label].append(r)
    return out


def one_source(records: list[Record]) -> list[Record]:
    """The records of one source: an annual one before a monthly one, never both added."""
    sources: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        sources[r.source].append(r)
    best = min(sources, key=lambda s: (sources[s][0].month is not None, s))
    return sources[best]


def total(records: Sequence[Record], side: Side) -> Decimal:
    """Annual records as they are; monthly ones summed (flagged when fewer than 12)."""
    annual = [r for r in records if r.month is None]
    if annual:
        side.sources.add(annual[0].source)
        return sum((r.value_eur for r in annual), Decimal(0))
    months = {r.month for r in records}
    if len(months) < 12:
        side.flags.append(f"partial_year: {len(months)} months")
    side.sources.add(records[0].source)
    return sum((r.value_eur for r in records), Decimal(0))


def one_label(records: list[Record], wanted: str, side: Side) -> list[Record]:
    """The records of one label; two labels for the same partner are flagged, never added."""
    labels = by_label(records)
    if len(labels) > 1:
        exact = [lab for lab, rs in labels.items() if rs[0].partner == wanted] or list(labels)
        # the label with the larger figure: the other is usually a partial duplicate
        keep = max(sorted(exact), key=lambda lab: sum(r.value_eur for r in labels[lab]))
        named = ", ".join(
            f"{lab!r} {sum((r.value_eur for r in rs), Decimal(0)):,.0f}"
            for lab, rs in sorted(labels.items())
        )
        side.flags.append(f"same_partner_two_labels: used {keep!r} of {named}")
        return labels[keep]
    return records


def members_sum(records: list[Record], members: frozenset[str], side: Side) -> Decimal | None:
    found = [r for r in records if r.partner in members]
    if not found:
        return None
    per: dict[str, list[Record]] = defaultdict(list)
    for r in one_source(found):
        per[r.partner].append(r)
    return sum((total(one_label(rs, code, side), side) for code, rs in per.items()), Decimal(0))


def check_members(side: Side, aggregate: Decimal, members: Decimal | None) -> None:
    if members is None or aggregate == 0:
        return
    if abs(members - aggregate) > TOLERANCE * abs(aggregate):
        side.flags.append(
            f"member_sum_differs: members {members:,.0f} vs aggregate {aggregate:,.0f}"
        )


def resolve_side(rows: list[Record], wanted: str, year: int, members_of: list[Record]) -> Side:
    """One side's figure for `wanted` in `year` from its records (aggregate or members)."""
    side = Side()
    direct = [r for r in rows if partner_matches(r.partner, wanted, year)]
    members = MEMBERS.get(wanted)
    if direct:
        side.value = total(one_label(one_source(direct), wanted, side), side)
        if members:
            check_members(side, side.value, members_sum(members_of, members, Side()))
    elif members:
        side.value = members_sum(members_of, members, side)
        if side.value is not None:
            side.flags.append("from_member_sum")
    converted = {r.converted for r in direct or members_of if r.converted}
    side.flags += [f"third_party_fixed_rate: {c}" for c in sorted(converted)]
    return side


def partner_side(records: list[Record], reporter: str, partner: str, year: int) -> Side:
    """What `partner` reports exporting to `reporter` (members' own reports as a check)."""
    exports = [
        r for r in records if r.flow == "EXPORT" and r.partner == reporter and r.year == year
    ]
    # the partner is the reporting side here: match on who reports
    mine = [
        Record(r.source, r.partner, r.reporter, r.reporter_label or r.reporter, r.flow, r.year,
               r.month, r.value_eur, r.converted)
        for r in exports
    ]  # fmt: skip
    return resolve_side(mine, partner, year, mine)


def reporter_side(records: list[Record], reporter: str, partner: str, year: int) -> Side:
    imports = [
        r for r in records if r.flow == "IMPORT" and r.reporter == reporter and r.year == year
    ]
    side = resolve_side(imports, partner, year, imports)
    earlier = [r for r in records if r.flow == "IMPORT" and r.reporter == reporter]
    before = resolve_side([r for r in earlier if r.year == year - 1], partner, year - 1, []).value
    if side.value is not None and before and side.value < SUSPECT_DROP * before:
        side.flags.append(f"suspect_drop: {side.value:,.0f} after {before:,.0f} the year before")
    codes = {r.partner for r in imports}
    if any(is_aggregate(c) for c in codes) and any(not is_aggregate(c) for c in codes):
        side.flags.append("aggregates_in_country_column: recognised, not summed")
    return side


def mirror_row(
    records: list[Record], reporter: str, partner: str, year: int, cif_fob: Decimal
) -> dict[str, Any]:
    exp = partner_side(records, reporter, partner, year)
    imp = reporter_side(records, reporter, partner, year)
    flags = [f"partner side {f}" for f in exp.flags] + [f"reporter side {f}" for f in imp.flags]
    gap = ratio = adjusted = None
    if exp.value is None or imp.value is None:
        flags.append("missing_side: " + ("partner" if exp.value is None else "reporter"))
    else:
        gap = exp.value - imp.value
        ratio = float(exp.value) / float(imp.value) if imp.value else None
        adjusted = float(exp.value * (1 + cif_fob)) / float(imp.value) if imp.value else None
    return {
        "reporter": reporter,
        "partner": partner,
        "year": year,
        "partner_exports_eur": exp.value,
        "reporter_imports_eur": imp.value,
        "gap_eur": gap,
        "ratio": ratio,
        "cif_fob_adjusted_ratio": adjusted,
        "flags": flags,
        "sources": sorted(exp.sources | imp.sources),
    }


def years_of(records: Iterable[Record], reporter: str) -> list[int]:
    return sorted({r.year for r in records if reporter in (r.reporter, r.partner)})


def mirror(
    records: list[Record],
    reporter: str,
    partner: str,
    years: Sequence[int] | None = None,
    cif_fob: Decimal = Decimal("0.06"),
    by: str = "year",
) -> list[dict[str, Any]]:
    """One row per year (or per month, `by="month"`): partner-reported exports,
    reporter-reported imports, gap, ratio."""
    if by not in ("year", "month"):
        raise AnalyticsError(f"by: {by!r} is not one of year, month")
    for name, code in (("reporter", reporter), ("partner", partner)):
        if not is_aggregate(code) and resolve(code) != code:
            raise AnalyticsError(
                f"{name}: {code!r} is neither an ISO 3166-1 alpha-2 country code nor a group "
                f"({', '.join(AGGREGATES)})"
            )
    chosen = years or years_of(records, reporter)
    if by == "month":
        return [r for y in chosen for r in monthly(records, reporter, partner, y, cif_fob)]
    return [mirror_row(records, reporter, partner, y, cif_fob) for y in chosen]


def monthly(
    records: list[Record], reporter: str, partner: str, year: int, cif_fob: Decimal
) -> list[dict[str, Any]]:
    """A row for each month of `year` that a monthly source covers on either side. Each
    month's figures go through the same gate as a year's (labels, member sums, aggregates,
    third-party rates; `suspect_drop` against the same month a year before). A side with
    only an annual figure that year has no monthly one: `missing_side`, plus `annual_only`
    naming the year's figure — never a twelfth of it."""
    rows = []
    mine = [r for r in records if r.year == year and r.month]
    covered = {
        "partner": {r.month for r in mine if r.flow == "EXPORT" and r.partner == reporter},
        "reporter": {r.month for r in mine if r.flow == "IMPORT" and r.reporter == reporter},
    }
    for month in range(1, 13):
        here = [r for r in records if r.month == month and r.year in (year, year - 1)]
        if not any(r.year == year for r in here):
            continue
        as_periods = [replace(r, month=None) for r in here]
        row = mirror_row(as_periods, reporter, partner, year, cif_fob)
        row["month"] = month
        for side, months in covered.items():
            if 0 < len(months) < 12:
                row["flags"].append(f"{side} side partial_year: {len(months)} months of {year}")
        for side, key in (("partner", "partner_exports_eur"), ("reporter", "reporter_imports_eur")):
            if row[key] is None:
                whole = mirror_row(records, reporter, partner, year, cif_fob)[key]
                if whole is not None:
                    row["flags"].append(
                        f"{side} side annual_only: {whole:,.0f} for {year}, no monthly figures"
                    )
        rows.append({k: row[k] for k in ("reporter", "partner", "year", "month", *list(row)[3:])})
    return rows


# --- the published "roundabout" figures, reproduced from the same files ------------------------

ECB_USD_PER_EUR_2022 = Decimal("1.0530")  # ECB euro reference rate, 2022 annual average
ROUNDABOUT = ("KZ", "KG", "AM")


def _pair(records: list[Record], reporter: str, year: int) -> dict[str, Any]:
    return mirror_row(records, reporter, "EU27", year, Decimal("0.06"))


def roundabout(records: list[Record]) -> list[dict[str, Any]]:
    """EU → KZ gap 2022, EU export growth 2021→2022 to KZ, KG, AM, and the share of the extra
    EU exports of 2022 to those three that no importer recorded (the EBRD's "about half")."""
    rows: list[dict[str, Any]] = []
    kz = _pair(records, "KZ", 2022)
    rows.append(
        {
            "figure": "EU27 exports to KZ minus KZ imports from EU27, 2022",
            "value": kz["gap_eur"],
            "unit": "EUR",
            "value_usd": (kz["gap_eur"] * ECB_USD_PER_EUR_2022).quantize(Decimal(1)),
            "public": "about 2.9 bn USD lost (Financial Times, as quoted in issue 15)",
            "flags": kz["flags"],
            "sources": [*kz["sources"], "ECB euro reference rate 2022 average 1.0530 USD"],
        }
    )
    extra_exp = extra_imp = Decimal(0)
    flags: list[str] = []
    for c in ROUNDABOUT:
        a, b = _pair(records, c, 2021), _pair(records, c, 2022)
        growth = float(b["partner_exports_eur"]) / float(a["partner_exports_eur"]) - 1
        rows.append(
            {
                "figure": f"EU27 export growth to {c}, 2021→2022",
                "value": growth,
                "unit": "ratio",
                "public": None,
                "flags": [],
                "sources": b["sources"][:1],
            }
        )
        extra_exp += b["partner_exports_eur"] - a["partner_exports_eur"]
        extra_imp += b["reporter_imports_eur"] - a["reporter_imports_eur"]
        flags += [f"{c} {f}" for f in b["flags"]]
    rows.append(
        {
            "figure": "share of the extra EU27 exports of 2022 to KZ, KG, AM that no importer "
            "recorded: 1 − Δ imports from EU27 / Δ EU27 exports",
            "value": 1 - float(extra_imp) / float(extra_exp),
            "unit": "ratio",
            "public": "about half (EBRD, as quoted in issue 15)",
            "flags": flags,
            "sources": kz["sources"],
        }
    )
    return rows
