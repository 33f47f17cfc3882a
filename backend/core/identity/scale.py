"""A large, realistic, reproducible population for benchmarks: `vitrine seed --scale citizens=N`.

Person ``i`` (0 <= i < N) is always the same person: the national number comes from the index alone, and the
rest (names, language, e-mail, person id) from a ``random.Random`` seeded by ``seed`` and the index's block. A
rerun therefore knows exactly which numbers it would write, skips the ones already present and adds the rest:
an interrupted run resumes, a finished one adds nothing, and ``citizens=3000`` after ``citizens=2000`` adds the
next thousand people.

Generated numbers use daily serials 901-998, which neither the demo personas (serials up to 410) nor the test
factories (1-900) use, so the population never collides with hand-made people.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from typing import Final, Literal

import asyncpg

from backend.core.identifiers import make_insz

__all__ = ["MAX_CITIZENS", "generate_people"]

_FIRST_DAY: Final = date(1935, 1, 1).toordinal()
_DAYS: Final = date(2008, 12, 31).toordinal() - _FIRST_DAY + 1
_FIRST_SERIAL: Final = 901
_SERIALS: Final = 998 - _FIRST_SERIAL + 1
MAX_CITIZENS: Final = _DAYS * _SERIALS
"""How many distinct people the generator can make (one per birth date and reserved serial)."""

# Index -> slot is i * _STRIDE mod MAX_CITIZENS, a bijection because the stride is coprime with the capacity
# (2 * 7 * 7 * 151 * 179). Its remainder modulo the number of days is about 0.618 of it (golden-ratio step), so
# even a small population spreads evenly over all birth dates and both sexes instead of filling day by day.
_STRIDE: Final = 37 * _DAYS + 16_706
# Each block of people has its own Random, so a resumed run starts anywhere without replaying the earlier ones
# (seeding costs ~20 µs: per person it would dominate, per thousand it is noise).
_BLOCK: Final = 1_000
# Taken inside every batch transaction, so two concurrent runs cannot both decide a number is still free.
_LOCK_KEY: Final = 0x56_69_74_53_63_61_6C_65  # "VitScale"

Language = Literal["nl", "fr", "de", "en"]
PersonRow = tuple[uuid.UUID, str, str, date, str, str | None]
IdentifierRow = tuple[uuid.UUID, str, str]


def _names(text: str) -> tuple[str, ...]:
    """Split a comma-separated list (compact to write; some family names contain spaces)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


# (men, women, family names) per Belgian language community and per common origin of immigrant families.
_COMMUNITIES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "nl": (
        _names("""Lucas, Liam, Noah, Arthur, Louis, Jules, Finn, Mats, Vic, Leon, Lars, Wout, Senne, Stan, Ruben,
            Jonas, Thomas, Pieter, Jan, Tom, Kris, Bart, Koen, Peter, Dirk, Luc, Marc, Geert, Wim, Filip, Johan,
            Stefan, Jef, Frans, Jozef, Willy, Roger, Hendrik, Gert, Jeroen, Bram, Niels, Joris, Sander, Tim, Kevin,
            Dries, Maarten, Wouter, Gilles"""),
        _names("""Emma, Olivia, Louise, Marie, Nora, Lena, Ella, Mila, Julie, Lotte, Fien, Noor, Hanne, Lien, Eline,
            Sara, Laura, Lisa, Elke, Sofie, Katrien, An, Els, Inge, Veerle, Ilse, Griet, Kathleen, Nathalie, Sandra,
            Martine, Hilde, Greet, Annemie, Rita, Maria, Godelieve, Jeanine, Monique, Christiane, Marleen, Ingrid,
            Anja, Leen, Evelien, Charlotte, Jana, Amber, Femke, Tine"""),
        _names("""Peeters, Janssens, Maes, Jacobs, Mertens, Willems, Claes, Goossens, Wouters, De Smet, Vermeulen,
            Van den Bossche, De Clercq, Hermans, Aerts, Lambrechts, Michiels, Pauwels, Desmet, Martens, Smets,
            Verstraete, Van Damme, Verhoeven, Stevens, Coppens, Cools, Van de Velde, Wuyts, De Backer, Segers,
            Vandenberghe, Van Dyck, Claessens, Verbruggen, De Vos, Hendrickx, Bogaerts, Geerts, Van Acker"""),
    ),
    "fr": (
        _names("""Louis, Gabriel, Arthur, Jules, Victor, Adam, Léon, Hugo, Noah, Nathan, Lucas, Théo, Maxime, Thomas,
            Antoine, Nicolas, Julien, Alexandre, Romain, Benoît, Olivier, Philippe, Pierre, Jean, Michel, Jacques,
            Christian, Alain, Didier, Patrick, Eric, Pascal, Marc, Luc, Jean-Pierre, Jean-Marc, Jean-Luc, André,
            Claude, Daniel, Guy, Bernard, Francis, Serge, Vincent, Sébastien, Cédric, Laurent, Quentin, Damien"""),
        _names("""Emma, Louise, Olivia, Alice, Lina, Mila, Juliette, Chloé, Camille, Léa, Manon, Sarah, Julie, Laura,
            Marie, Anne, Catherine, Isabelle, Nathalie, Sophie, Véronique, Christine, Françoise, Monique, Nicole,
            Martine, Sylvie, Chantal, Brigitte, Anne-Marie, Marie-Claire, Dominique, Florence, Valérie, Céline,
            Aurélie, Caroline, Stéphanie, Delphine, Audrey, Pauline, Charlotte, Margaux, Elise, Zoé, Clara, Jeanne,
            Josiane, Ghislaine, Danielle"""),
        _names("""Dubois, Lambert, Dupont, Martin, Simon, Laurent, Leclercq, Lejeune, Renard, Collard, Dumont,
            François, Denis, Lemaire, Marchal, Mathieu, Gilson, Henry, Charlier, Leroy, Hubert, Legrand, Michel,
            Lefebvre, Fontaine, Noël, Thiry, Piette, Delvaux, Bertrand, Jacquet, Lecomte, Gérard, André, Bodart,
            Petit, Colin, Masson, Dethier, Wathelet"""),
    ),
    "de": (
        _names("""Lukas, Jonas, Leon, Elias, Luca, Noah, Paul, Finn, Ben, Felix, Tim, Jan, Niklas, Tobias, Simon,
            David, Daniel, Michael, Thomas, Andreas, Stefan, Christian, Markus, Frank, Jürgen, Klaus, Günter, Werner,
            Helmut, Karl, Josef, Hubert, Herbert, Norbert, Manfred, Dieter, Rudolf, Bernd, Olaf, Ralf, Dirk, Marcel,
            Pascal, Kevin, René, Guido, Arnold, Albert, Alfons, Erich"""),
        _names("""Lea, Emma, Mia, Hannah, Lena, Anna, Sophie, Marie, Laura, Lisa, Julia, Sarah, Katharina, Nina, Jana,
            Vanessa, Jessica, Sandra, Nicole, Sabine, Claudia, Andrea, Petra, Monika, Susanne, Birgit, Martina,
            Gabriele, Ursula, Renate, Helga, Ingrid, Gertrud, Erika, Elisabeth, Maria, Margarethe, Agnes, Johanna,
            Irene, Brigitte, Carina, Melanie, Tanja, Michaela, Yvonne, Nadine, Christa, Edith, Anita"""),
        _names("""Schmitz, Müller, Schröder, Kessler, Lenz, Cremer, Meyer, Wagner, Hoffmann, Jost, Heinen, Kreutz,
            Mreyen, Hilger, Margraff, Backes, Pauels, Rauw, Jousten, Thannen"""),
    ),
    "ma": (
        _names("Mohamed, Ahmed, Youssef, Mehdi, Karim, Rachid, Hamza, Bilal, Ayoub, Amine"),
        _names("Fatima, Amina, Khadija, Nadia, Salma, Imane, Yasmina, Samira, Malika, Zineb"),
        _names("El Amrani, Benali, El Idrissi, Bouzid, Amrani, El Khattabi, Ouali, Azzouzi, Boukhari, Haddouchi"),
    ),
    "tr": (
        _names("Mehmet, Mustafa, Emre, Burak, Ahmet, Ali, Hasan, Hüseyin, Murat, Can"),
        _names("Elif, Zeynep, Ayşe, Fatma, Emine, Hatice, Merve, Büşra, Esra, Selin"),
        _names("Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Öztürk, Aydın, Arslan, Doğan"),
    ),
    "it": (
        _names("Giuseppe, Giovanni, Antonio, Marco, Luca, Salvatore, Francesco, Angelo, Mario, Vincenzo"),
        _names("Maria, Giulia, Francesca, Anna, Rosa, Giovanna, Angela, Teresa, Lucia, Chiara"),
        _names("Rossi, Russo, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno"),
    ),
    "pl": (
        _names("Piotr, Krzysztof, Andrzej, Tomasz, Paweł, Marcin, Michał, Jakub, Grzegorz, Łukasz"),
        _names("Anna, Katarzyna, Agnieszka, Magdalena, Joanna, Monika, Aleksandra, Małgorzata, Ewa, Barbara"),
        _names("Nowak, Kowalski, Wiśniewski, Wójcik, Kamiński, Lewandowski, Zieliński, Szymański, Woźniak, Nowicki"),
    ),
}
# Cumulative shares of families of Moroccan, Italian, Turkish and Polish origin (about 10% together).
_ORIGINS: Final = ((0.04, "ma"), (0.065, "it"), (0.085, "tr"), (0.10, "pl"))


def _slot(index: int) -> tuple[date, int, Literal[None, "unknown_sex", "known_sex"]]:
    """Birth date, serial and BIS kind of person ``index``: from the index alone, so unique and seed-free."""
    slot = index * _STRIDE % MAX_CITIZENS
    birth = date.fromordinal(_FIRST_DAY + slot % _DAYS)
    serial = _FIRST_SERIAL + slot // _DAYS
    # About 3% hold a BIS number (people not in the National Register); a third of those with the sex unknown.
    mark = index * 37 % 100
    bis: Literal[None, "unknown_sex", "known_sex"] = None if mark >= 3 else "unknown_sex" if mark == 0 else "known_sex"
    return birth, serial, bis


def _insz(index: int) -> str:
    """The national (or BIS) number of person ``index``."""
    birth, serial, bis = _slot(index)
    return make_insz(birth, serial, bis=bis)


@cache
def _mail_part(name: str) -> str:
    """A name as plain ASCII letters for an e-mail address (Wiśniewski -> wisniewski, Van Dyck -> vandyck)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_name.lower() if ch.isalnum()) or "x"


def _person(rng: random.Random, index: int) -> tuple[PersonRow, IdentifierRow]:
    """Draw person ``index``: its rows for ``people`` and ``person_identifiers``."""
    birth, serial, bis = _slot(index)
    insz = make_insz(birth, serial, bis=bis)
    draw = rng.random()
    language: Language = "nl" if draw < 0.58 else "fr" if draw < 0.98 else "de" if draw < 0.99 else "en"
    origin = rng.random()
    community = next((code for share, code in _ORIGINS if origin < share), None)
    if community is None:
        # English speakers are expats living in either big community; 8% married or moved across the border.
        community = language if language != "en" else rng.choice(("nl", "fr"))
        if rng.random() < 0.08:
            community = "fr" if community == "nl" else "nl"
    men, women, families = _COMMUNITIES[community]
    male = serial % 2 == 1  # odd serials are men's
    given = rng.choice(men if male else women)
    family = rng.choice(families)
    if not male and family.endswith(("ski", "cki")):
        family = family[:-1] + "a"  # Polish feminine form: Kowalska
    email = None
    if rng.random() < 0.1:  # most citizens never gave an address; example.org is reserved, so nothing is sent
        email = f"{_mail_part(given)}.{_mail_part(family)}.{index}@example.org"
    person_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return (person_id, given, family, birth, language, email), (person_id, insz, "insz" if bis is None else "bis")


def _people(seed: int, start: int, stop: int) -> Iterator[tuple[PersonRow, IdentifierRow]]:
    """Persons ``start`` to ``stop - 1``; each block's Random is replayed from its start for determinism."""
    for block in range(start // _BLOCK, (stop - 1) // _BLOCK + 1):
        rng = random.Random((seed << 32) | block)
        for index in range(block * _BLOCK, min((block + 1) * _BLOCK, stop)):
            person = _person(rng, index)
            if index >= start:
                yield person


async def generate_people(
    conn: asyncpg.Connection,
    *,
    citizens: int,
    batch_size: int = 50_000,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Make sure generated persons 0 to ``citizens - 1`` exist; return how many were added now.

    Each batch is COPY'd in a transaction of its own (so an interrupted run keeps whole batches) after
    skipping the persons whose number is already present. ``progress`` gets the running total added after
    every batch. The connection must not be inside a transaction.

    Raises:
        ValueError: when ``citizens`` is negative or above :data:`MAX_CITIZENS`, or ``batch_size`` below 1.
    """
    if not 0 <= citizens <= MAX_CITIZENS:
        raise ValueError(f"citizens must be between 0 and {MAX_CITIZENS}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    added = 0
    for start in range(0, citizens, batch_size):
        stop = min(start + batch_size, citizens)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
            # bpchar[] (not text[]) so the comparison can use the unique index on the char(11) column.
            present = await conn.fetch(
                "SELECT insz FROM person_identifiers WHERE insz = ANY($1::bpchar[])",
                [_insz(index) for index in range(start, stop)],
            )
            done = {row["insz"] for row in present}
            if len(done) < stop - start:
                rows = [person for person in _people(seed, start, stop) if person[1][1] not in done]
                await conn.copy_records_to_table(
                    "people",
                    records=[person for person, _ in rows],
                    columns=["person_id", "given_name", "family_name", "birth_date", "language", "email"],
                )
                await conn.copy_records_to_table(
                    "person_identifiers",
                    records=[identifier for _, identifier in rows],
                    columns=["person_id", "insz", "kind"],
                )
                added += len(rows)
        if progress is not None:
            progress(added)
    return added
