"""Country names as sanctions lists spell them, to ISO 3166-1 alpha-2 (the code Keruen compares).

OFAC writes "Russia", "Korea, North", "Bahamas, The"; FollowTheMoney and plain CSV lists already
use codes. Regions (Crimea, Gaza, ...) map to the country that holds them in ISO 3166; names
that say nothing about a country ("undetermined") map to nothing.
"""

from __future__ import annotations

from keruen.screening.text import latin

_PAIRS = """
Afghanistan=AF Albania=AL Algeria=DZ Angola=AO Argentina=AR Armenia=AM Aruba=AW Australia=AU
Austria=AT Azerbaijan=AZ Bahamas=BS Bahamas, The=BS Bahrain=BH Bangladesh=BD Barbados=BB
Belarus=BY Belgium=BE Belize=BZ Benin=BJ Bermuda=BM Bolivia=BO Bosnia and Herzegovina=BA
Brazil=BR Bulgaria=BG Burkina Faso=BF Burma=MM Myanmar=MM Cambodia=KH Canada=CA
Cayman Islands=KY Central African Republic=CF Chile=CL China=CN Colombia=CO Comoros=KM
Congo, Democratic Republic of the=CD Congo, Republic of the=CG Costa Rica=CR
Cote d Ivoire=CI Croatia=HR Cuba=CU Cyprus=CY Czech Republic=CZ Czechia=CZ Denmark=DK
Djibouti=DJ Dominica=DM Dominican Republic=DO Ecuador=EC Egypt=EG El Salvador=SV
Equatorial Guinea=GQ Eritrea=ER Estonia=EE Ethiopia=ET Finland=FI France=FR Georgia=GE
Germany=DE Ghana=GH Gibraltar=GI Greece=GR Guatemala=GT Guinea=GN Guyana=GY Haiti=HT
Honduras=HN Hong Kong=HK Hungary=HU Iceland=IS India=IN Indonesia=ID Iran=IR Iraq=IQ
Ireland=IE Israel=IL Italy=IT Jamaica=JM Japan=JP Jersey=JE Jordan=JO Kazakhstan=KZ Kenya=KE
Korea, North=KP Korea, South=KR Kosovo=XK Kuwait=KW Kyrgyzstan=KG Laos=LA Latvia=LV
Lebanon=LB Liberia=LR Libya=LY Liechtenstein=LI Lithuania=LT Luxembourg=LU Macau=MO
Malaysia=MY Maldives=MV Mali=ML Malta=MT Man, Isle of=IM Marshall Islands=MH Mauritania=MR
Mexico=MX Moldova=MD Monaco=MC Mongolia=MN Montenegro=ME Morocco=MA Mozambique=MZ Namibia=NA
Netherlands=NL Netherlands Antilles=CW New Zealand=NZ Nicaragua=NI Niger=NE Nigeria=NG
North Macedonia, The Republic of=MK North Macedonia=MK Norway=NO Oman=OM Pakistan=PK Palau=PW
Palestinian=PS West Bank=PS Region: West Bank=PS Region: Gaza=PS Panama=PA Paraguay=PY Peru=PE
Philippines=PH Poland=PL Portugal=PT Qatar=QA Region: Crimea=UA Region: Kafia Kingi=SS
Region: Northern Mali=ML Romania=RO Russia=RU Russian Federation=RU Rwanda=RW
Saint Kitts and Nevis=KN Saint Vincent and the Grenadines=VC Samoa=WS San Marino=SM
Saudi Arabia=SA Senegal=SN Serbia=RS Seychelles=SC Sierra Leone=SL Singapore=SG Slovakia=SK
Slovenia=SI Somalia=SO South Africa=ZA South Sudan=SS Spain=ES Sri Lanka=LK Sudan=SD
Sweden=SE Switzerland=CH Syria=SY Taiwan=TW Tajikistan=TJ Tanzania=TZ Thailand=TH
The Gambia=GM Gambia=GM Trinidad and Tobago=TT Tunisia=TN Turkey=TR Turkiye=TR
Turkmenistan=TM Uganda=UG Ukraine=UA United Arab Emirates=AE United Kingdom=GB
United States=US Uruguay=UY Uzbekistan=UZ Vanuatu=VU Venezuela=VE Vietnam=VN
Virgin Islands, British=VG Yemen=YE Zambia=ZM Zimbabwe=ZW
"""


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for item in _split_pairs(_PAIRS):
        name, code = item.rsplit("=", 1)
        table[latin(name.strip())] = code
    return table


def _split_pairs(text: str) -> list[str]:
    """`Name=XX` items; a name may contain spaces and commas, a code never does."""
    items: list[str] = []
    current: list[str] = []
    for word in text.split():
        current.append(word)
        if "=" in word:
            items.append(" ".join(current))
            current = []
    return items


NAMES = _table()


def country_code(value: str) -> str | None:
    """ISO alpha-2 for a code or an OFAC-style country name; None when it names no country."""
    value = value.strip()
    if len(value) == 2 and value.isalpha():
        return value.upper()
    return NAMES.get(latin(value))
