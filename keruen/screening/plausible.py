"""Plausible party names on no list: the ordinary companies and people a screen must stay quiet on.

Russian and Kazakh companies are named from a small stock of generic words (Сервис, Волга,
Инвест, Строй, Алтын, Береке...) around a legal form; Chinese suppliers are a city, a word and
a trade ("Guangzhou Technology Co., Ltd."); people are common given names, surnames and
patronymics, in Cyrillic or in Latin. Such names share words with listed names by nature, which
is what the burden bench measures. Deterministic for a seed. Pure.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

RU_WORDS = (
    "Сервис",
    "Волга",
    "Инвест",
    "Инвест-Компани",
    "Строй",
    "СтройСервис",
    "Техно",
    "ТехноТрейд",
    "Альянс",
    "Транс",
    "ТрансЛогистик",
    "Логистик",
    "Агро",
    "АгроПром",
    "Мега",
    "Вектор",
    "Гарант",
    "Партнер",
    "Стандарт",
    "Ресурс",
    "Регион",
    "Импульс",
    "Меридиан",
    "Восток",
    "Север",
    "Урал",
    "Сибирь",
    "Прогресс",
    "Форвард",
    "Эталон",
    "Контур",
    "Спектр",
    "Деталь",
    "Электро",
    "Энерго",
    "Маркет",
    "Торговый Дом",
    "Промышленные Решения",
    "Снабжение",
    "Комплект",
    "Интер",
    "Глобал",
    "Лидер",
    "Орион",
    "Феникс",
    "Атлант",
    "Сфера",
    "Пром",
    "Металл",
    "Импорт",
)
KZ_WORDS = (
    "Алтын",
    "Береке",
    "Нур",
    "Жол",
    "Астана",
    "Алатау",
    "Сарыарқа",
    "Қазақ",
    "Дала",
    "Тұлпар",
    "Самұрық",
    "Бәйтерек",
    "Арман",
    "Ақжол",
    "Жетісу",
    "Шығыс",
    "Батыс",
    "Достық",
    "Кең Дала",
    "Ақ Орда",
)
RU_FORMS = ("ООО", "АО", "ИП", "ПАО", "ТОО", "ТОО", "ЖШС", "ООО")
CN_CITIES = (
    "Guangzhou",
    "Shenzhen",
    "Yiwu",
    "Ningbo",
    "Xiamen",
    "Shanghai",
    "Dongguan",
    "Hangzhou",
    "Urumqi",
    "Tianjin",
    "Qingdao",
    "Suzhou",
    "Foshan",
    "Harbin",
    "Beijing",
    "Chengdu",
    "Wuhan",
    "Xian",
    "Hong Kong",
    "Fujian",
)
CN_WORDS = (
    "",
    "",
    "Huawei",
    "Xinda",
    "Jinlong",
    "Hengtai",
    "Tianrui",
    "Ruixin",
    "Haoyu",
    "Zhongxin",
    "Yuanda",
    "Hongda",
    "Sanhe",
    "Kaiyuan",
    "Golden",
    "Star",
    "Sun",
    "Dragon",
    "Bright",
    "United",
)
CN_TRADES = (
    "Technology",
    "Electronics",
    "Trading",
    "Import and Export",
    "Industrial",
    "Machinery",
    "Logistics",
    "Supply Chain",
    "Electronic Technology",
    "International Trade",
    "Auto Parts",
    "Precision Machinery",
    "New Energy",
    "Optical",
    "Communication Equipment",
)
CN_FORMS = ("Co., Ltd.", "Co., Ltd", "Company Limited", "Limited", "Co")
RU_GIVEN = (
    "Александр",
    "Сергей",
    "Андрей",
    "Дмитрий",
    "Алексей",
    "Иван",
    "Михаил",
    "Николай",
    "Евгений",
    "Олег",
    "Павел",
    "Артём",
    "Максим",
    "Денис",
    "Юрий",
    "Виктор",
)
RU_FEMALE = ("Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Анна", "Мария", "Светлана")
RU_SURNAMES = (
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
)
KZ_GIVEN = ("Нұрлан", "Ерлан", "Асқар", "Дәурен", "Бақыт", "Серік", "Ержан", "Марат", "Бауыржан")
KZ_SURNAMES = (
    "Ахметов",
    "Омаров",
    "Сейткали",
    "Жумабаев",
    "Касымов",
    "Нурланов",
    "Бекмуханбетов",
    "Садыков",
    "Абенов",
    "Искаков",
    "Тулегенов",
    "Мукашев",
)
CN_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou")
CN_GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Jun", "Yong", "Jie", "Tao", "Ming", "Hua")


class PlausibleNames:
    """An endless, seeded stream of (name, kind) with kind "company" or "person"."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)

    def company(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.4:
            return f"{r.choice(RU_FORMS)} «{r.choice(RU_WORDS)}»"
        if roll < 0.55:
            return f"{r.choice(RU_FORMS)} «{r.choice(RU_WORDS)} {r.choice(RU_WORDS)}»"
        if roll < 0.7:
            return f"{r.choice(('ТОО', 'ЖШС', 'АҚ'))} «{r.choice(KZ_WORDS)}»"
        parts = (r.choice(CN_CITIES), r.choice(CN_WORDS), r.choice(CN_TRADES), r.choice(CN_FORMS))
        return " ".join(p for p in parts if p)

    def person(self) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.45:
            female = r.random() < 0.4
            given = r.choice(RU_FEMALE if female else RU_GIVEN)
            surname = r.choice(RU_SURNAMES) + ("а" if female else "")
            father = r.choice(RU_GIVEN)
            patronymic = father + ("овна" if female else "ович")
            if r.random() < 0.5:
                return f"{surname} {given} {patronymic}"
            return f"{given} {surname}"
        if roll < 0.75:
            given, father = r.choice(KZ_GIVEN), r.choice(KZ_GIVEN)
            return f"{r.choice(KZ_SURNAMES)} {given}" + (
                f" {father}ұлы" if r.random() < 0.5 else ""
            )
        return f"{r.choice(CN_SURNAMES)} {r.choice(CN_GIVEN)}" + (
            r.choice(CN_GIVEN).lower() if r.random() < 0.6 else ""
        )

    def names(self, n: int) -> Iterator[tuple[str, str]]:
        for _ in range(n):
            if self.rng.random() < 0.6:
                yield self.company(), "company"
            else:
                yield self.person(), "person"
