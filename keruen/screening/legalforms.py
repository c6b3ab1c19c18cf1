"""Legal-form words, grouped by the class they stand for, in Russian, Kazakh and English (and a few
more seen on sanctions lists). A legal form says little about who an entity is — "ООО Ромашка",
"OOO Romashka" and "Romashka LLC" are one company — so it is lifted out of the name before
matching and kept aside for the explanation.

Phrases are written as people write them; `keruen.screening.text` reduces them with the same
transliteration and skeleton rules as names, so one spelling per phrase is enough.
"""

from __future__ import annotations

LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "llc": (
        "ООО", "OOO", "LLC", "L.L.C.", "ТОВ", "TOV", "ОДО", "ODO",
        "общество с ограниченной ответственностью", "limited liability company",
        "товариство з обмеженою відповідальністю", "Sp. z o.o.", "SRL", "S.R.L.", "FZ-LLC",
        "FZ LLC", "MChJ", "МЧЖ", "OsOO", "ОсОО", "ЖЧК",
    ),
    "llp": (
        "ТОО", "TOO", "LLP", "ЖШС", "ZhShS", "JSS",
        "товарищество с ограниченной ответственностью", "limited liability partnership",
        "жауапкершілігі шектеулі серіктестігі",
    ),
    "jsc": (
        "АО", "AO", "JSC", "АҚ", "AQ", "ОАО", "OAO", "OJSC", "ЗАО", "ZAO", "CJSC", "ПАО", "PAO",
        "PJSC", "НАО", "NAO", "АООТ", "АОЗТ", "ПрАТ", "ПАТ", "ASC",
        "акционерное общество", "открытое акционерное общество", "закрытое акционерное общество",
        "публичное акционерное общество", "непубличное акционерное общество",
        "joint stock company", "joint-stock company", "open joint stock company",
        "closed joint stock company", "public joint stock company", "акционерлік қоғамы",
        "акционерлик когамы", "aktsionerlik kogamy",
    ),
    "sole": (
        "ИП", "IP", "ЖК", "ZhK", "индивидуальный предприниматель", "жеке кәсіпкер",
        "sole proprietor", "ЧП", "частное предприятие", "ФЛП", "ЧУП",
    ),
    "state": (
        "ГУП", "ФГУП", "МУП", "РГП", "ГКП", "ГП", "унитарное предприятие",
        "государственное унитарное предприятие", "федеральное государственное унитарное предприятие",
        "республиканское государственное предприятие", "state unitary enterprise",
        "federal state unitary enterprise",
    ),
    "nonprofit": ("АНО", "НКО", "НО", "ANO", "некоммерческая организация"),
    "ltd": ("Ltd", "Limited", "Co. Ltd", "Co., Ltd.", "Company Limited", "Pvt", "Pvt Ltd",
            "Private Limited", "Pte", "Pte Ltd", "Ltda", "Sti", "Şti", "Ltd Şti", "Ltd Sti"),
    "inc": ("Inc", "Incorporated", "Corp", "Corporation", "Co", "Company", "PLC",
            "public limited company"),
    "gmbh": ("GmbH", "AG", "KG", "GmbH & Co KG", "mbH", "e.K."),
    "sa": ("SA", "S.A.", "S.A.S.", "SAS", "SARL", "S.A.R.L.", "S.p.A.", "SpA", "AŞ", "A.Ş.", "AS",
           "A/S", "BV", "B.V.", "NV", "N.V.", "AB", "Oy", "Kft", "sro", "s.r.o."),
    "free_zone": ("FZE", "FZCO", "FZC", "DMCC"),
    "partnership": ("LP", "L.P.", "partnership"),
}
