"""Where a passage's practice comes from: European countries, their adjectives and well-known regions in text.

A small hand-written gazetteer (no maintained offline library names regions in English *and* maps adjectives
such as "Flemish" or "Basque" to them; pycountry's subdivisions carry native names only), extended at run
time with the regions and countries the library's own metadata declares (`Gazetteer.with_records`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.types import DocumentRecord

# country → words that name it in English text (the name itself first)
COUNTRIES: dict[str, tuple[str, ...]] = {
    "Austria": ("Austria", "Austrian"),
    "Belgium": ("Belgium", "Belgian"),
    "Bulgaria": ("Bulgaria", "Bulgarian"),
    "Croatia": ("Croatia", "Croatian"),
    "Cyprus": ("Cyprus", "Cypriot"),
    "Czechia": ("Czechia", "Czech Republic", "Czech"),
    "Denmark": ("Denmark", "Danish"),
    "Estonia": ("Estonia", "Estonian"),
    "Finland": ("Finland", "Finnish"),
    "France": ("France", "French"),
    "Germany": ("Germany", "German"),
    "Greece": ("Greece", "Greek"),
    "Hungary": ("Hungary", "Hungarian"),
    "Ireland": ("Ireland", "Irish"),
    "Italy": ("Italy", "Italian"),
    "Latvia": ("Latvia", "Latvian"),
    "Lithuania": ("Lithuania", "Lithuanian"),
    "Luxembourg": ("Luxembourg",),
    "Malta": ("Malta", "Maltese"),
    "Netherlands": ("Netherlands", "Dutch"),
    "Poland": ("Poland", "Polish"),
    "Portugal": ("Portugal", "Portuguese"),
    "Romania": ("Romania", "Romanian"),
    "Slovakia": ("Slovakia", "Slovak"),
    "Slovenia": ("Slovenia", "Slovenian"),
    "Spain": ("Spain", "Spanish"),
    "Sweden": ("Sweden", "Swedish"),
    "Norway": ("Norway", "Norwegian"),
    "Switzerland": ("Switzerland", "Swiss"),
    "Iceland": ("Iceland", "Icelandic"),
    "United Kingdom": ("United Kingdom", "UK", "Scotland", "Scottish", "Wales", "Welsh"),
    "Serbia": ("Serbia", "Serbian"),
    "North Macedonia": ("North Macedonia",),
    "Montenegro": ("Montenegro",),
    "Albania": ("Albania", "Albanian"),
    "Ukraine": ("Ukraine", "Ukrainian"),
}

# region → (country, words that name it); regions often named in EU regional-policy texts
REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Flanders": ("Belgium", ("Flanders", "Flemish")),
    "Wallonia": ("Belgium", ("Wallonia", "Walloon")),
    "Brussels": ("Belgium", ("Brussels-Capital",)),
    "Basque Country": ("Spain", ("Basque Country", "Basque", "Bizkaia", "Gipuzkoa", "San Sebastian", "Bilbao")),
    "Catalonia": ("Spain", ("Catalonia", "Catalan")),
    "Andalusia": ("Spain", ("Andalusia", "Andalucía", "Andalusian")),
    "Galicia": ("Spain", ("Galicia", "Galician")),
    "Extremadura": ("Spain", ("Extremadura",)),
    "Castile and León": ("Spain", ("Castile and León", "Castilla y León")),
    "Murcia": ("Spain", ("Murcia",)),
    "Navarre": ("Spain", ("Navarre", "Navarra")),
    "Valencia": ("Spain", ("Valencian Community", "Valencia")),
    "Asturias": ("Spain", ("Asturias",)),
    "Emilia-Romagna": ("Italy", ("Emilia-Romagna",)),
    "Lombardy": ("Italy", ("Lombardy", "Lombardia")),
    "Tuscany": ("Italy", ("Tuscany", "Toscana")),
    "Piedmont": ("Italy", ("Piedmont", "Piemonte")),
    "Veneto": ("Italy", ("Veneto",)),
    "South Tyrol": ("Italy", ("South Tyrol", "Südtirol", "Alto Adige")),
    "Sicily": ("Italy", ("Sicily", "Sicilia")),
    "Apulia": ("Italy", ("Apulia", "Puglia")),
    "Bavaria": ("Germany", ("Bavaria", "Bavarian", "Bayern")),
    "Saxony": ("Germany", ("Saxony", "Saxon")),
    "Baden-Württemberg": ("Germany", ("Baden-Württemberg",)),
    "North Rhine-Westphalia": ("Germany", ("North Rhine-Westphalia",)),
    "Hauts-de-France": ("France", ("Hauts-de-France",)),
    "Bourgogne-Franche-Comté": ("France", ("Bourgogne-Franche-Comté",)),
    "Occitanie": ("France", ("Occitanie", "Occitania")),
    "Brittany": ("France", ("Brittany", "Bretagne")),
    "Auvergne-Rhône-Alpes": ("France", ("Auvergne-Rhône-Alpes",)),
    "Normandy": ("France", ("Normandy", "Normandie")),
    "Styria": ("Austria", ("Styria", "Styrian", "Steiermark")),
    "Upper Austria": ("Austria", ("Upper Austria",)),
    "Tyrol": ("Austria", ("Tyrol", "Tirol")),
    "West Transdanubia": ("Hungary", ("West-Transdanubia", "West Transdanubia", "Western Transdanubia")),
    "Peloponnese": ("Greece", ("Peloponnese",)),
    "Crete": ("Greece", ("Crete",)),
    "Central Macedonia": ("Greece", ("Central Macedonia",)),
    "Vestland": ("Norway", ("Vestland",)),
    "Cork": ("Ireland", ("Cork",)),
    "Lapland": ("Finland", ("Lapland",)),
    "Helsinki-Uusimaa": ("Finland", ("Helsinki-Uusimaa", "Uusimaa")),
    "Ostrobothnia": ("Finland", ("Ostrobothnia",)),
    "Skåne": ("Sweden", ("Skåne", "Scania")),
    "Värmland": ("Sweden", ("Värmland",)),
    "North Brabant": ("Netherlands", ("North Brabant", "Noord-Brabant", "Brainport")),
    "Limburg": ("Netherlands", ("Limburg",)),
    "Silesia": ("Poland", ("Silesia", "Silesian", "Śląskie")),
    "Lower Silesia": ("Poland", ("Lower Silesia",)),
    "Pomerania": ("Poland", ("Pomerania", "Pomorskie")),
    "Norte": ("Portugal", ("Norte region",)),
    "Centro": ("Portugal", ("Centro region",)),
    "Alentejo": ("Portugal", ("Alentejo",)),
    "South Moravia": ("Czechia", ("South Moravia", "South Moravian")),
    "Vilnius": ("Lithuania", ("Vilnius",)),
}


@dataclass(frozen=True)
class Place:
    """A place found in text: its region (may be '') and country."""

    region: str
    country: str

    def label(self) -> str:
        """'Basque Country (Spain)', or just the country."""
        return f"{self.region} ({self.country})" if self.region and self.country else self.region or self.country


class Gazetteer:
    """Finds places in text, longest names first, in reading order."""

    def __init__(self, names: dict[str, Place]) -> None:
        self.names = names
        alternatives = sorted(names, key=len, reverse=True)
        self._pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(n) for n in alternatives) + r")(?![\w-])")

    @classmethod
    def default(cls) -> Gazetteer:
        """The built-in countries and regions."""
        names: dict[str, Place] = {}
        for country, words in COUNTRIES.items():
            for w in words:
                names[w] = Place("", country)
        for region, (country, words) in REGIONS.items():
            for w in (region, *words):
                names[w] = Place(region, country)
        return cls(names)

    def with_records(self, records: Iterable[DocumentRecord]) -> Gazetteer:
        """This gazetteer plus the regions the library's metadata names (with their documents' country)."""
        names = dict(self.names)
        for rec in records:
            region = re.sub(r"\s*\(.*\)\s*$", "", rec.region).strip()  # "Murcia (example)" → "Murcia"
            if region and len(region) > 2 and region not in names:
                names[region] = Place(region, rec.country if rec.country not in ("EU", "multiple") else "")
        return Gazetteer(names)

    def find(self, text: str) -> list[Place]:
        """The places named in `text`, in order of first mention, without repeats."""
        out: list[Place] = []
        for m in self._pattern.finditer(text):
            place = self.names[m.group(1)]
            if place not in out:
                out.append(place)
        return out

    def resolve(self, name: str) -> Place | None:
        """The place a user typed ("Basque Country", "flanders"), or None when unknown."""
        key = name.strip().casefold()
        for n, place in self.names.items():
            if n.casefold() == key:
                return place
        return None
