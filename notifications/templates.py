"""The words of every notice and of the e-mail, per template version and language, as data.

Not gettext: a notice is rendered once, in the person's language, and its text is kept with it; a change of
wording is a new version here (the old one stays listed for the record), never a silent change of what someone
was told. Placeholders are `{name}` fields filled by notifications.rendering with values already written out
for the language (amounts, dates, percentages). Dutch, French and German are binding; English is a courtesy.

This file is long on purpose: it is data, kept in one place so that translators and reviewers read every
message side by side.
"""

from __future__ import annotations

from typing import Final

import msgspec

from backend.core.i18n import Language


class NoticeTexts(msgspec.Struct, frozen=True, kw_only=True):
    """A notice in one language: its subject, its body and the label of the action to take."""

    subject: str
    body: str
    action: str


class Variant(msgspec.Struct, frozen=True, kw_only=True):
    """One wording of a kind (e.g. "near the ceiling" and "past it"), and whether it is critical."""

    critical: bool
    texts: dict[Language, NoticeTexts]


class NoticeTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A versioned template of one kind: its variants, optional sentence fragments, and where its action leads."""

    kind: str
    version: int
    action_path: str
    variants: dict[str, Variant]
    fragments: dict[str, dict[Language, str]] = msgspec.field(default_factory=dict)


class EmailTexts(msgspec.Struct, frozen=True, kw_only=True):
    """The e-mail that says only that a message is waiting (eBox pattern): no subject of the notice, no name."""

    subject: str
    greeting: str
    intro: str
    read_prompt: str
    link_label: str
    footer: str
    preferences_label: str


class EmailTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A versioned e-mail wording."""

    version: int
    texts: dict[Language, EmailTexts]


_FLEXI_PAGE = "/my-data/flexi_wages"
_SEE_COUNTER: Final[dict[Language, str]] = {
    "nl": "Mijn flexiteller bekijken",
    "fr": "Voir mon compteur flexi",
    "de": "Meinen Flexi-Zähler ansehen",
    "en": "See my flexi counter",
}

FLEXI_CEILING_V1 = NoticeTemplate(
    kind="flexi_ceiling",
    version=1,
    action_path=_FLEXI_PAGE,
    variants={
        "near": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Uw flexi-inkomen heeft {threshold} van het plafond voor {year} bereikt",
                    body="Volgens de aangiften die we tot {as_of} ontvingen, bedraagt uw flexi-inkomen voor {year} "
                    "{total}: {percent} van het belastingvrije plafond van {limit}.{provisional}{forecast} Boven het "
                    "plafond wordt het meerdere belast als gewoon loon. Omdat niemand daarop belasting inhoudt als u "
                    "voor meerdere werkgevers werkt, kunt u nu al uw resterende uren plannen of geld opzijzetten.",
                    action=_SEE_COUNTER["nl"],
                ),
                "fr": NoticeTexts(
                    subject="Vos revenus flexi ont atteint {threshold} du plafond {year}",
                    body="Selon les déclarations reçues jusqu'au {as_of}, vos revenus flexi pour {year} s'élèvent à "
                    "{total} : {percent} du plafond exonéré de {limit}.{provisional}{forecast} Au-delà du plafond, le "
                    "surplus est imposé comme un salaire ordinaire. Comme personne ne retient d'impôt sur ce surplus "
                    "lorsque vous travaillez pour plusieurs employeurs, vous pouvez dès maintenant planifier vos "
                    "heures restantes ou mettre de l'argent de côté.",
                    action=_SEE_COUNTER["fr"],
                ),
                "de": NoticeTexts(
                    subject="Ihr Flexi-Einkommen hat {threshold} der Obergrenze für {year} erreicht",
                    body="Laut den bis zum {as_of} eingegangenen Meldungen beträgt Ihr Flexi-Einkommen für {year} "
                    "{total}: {percent} der steuerfreien Obergrenze von {limit}.{provisional}{forecast} Über der "
                    "Obergrenze wird der Mehrbetrag wie gewöhnlicher Lohn besteuert. Da niemand darauf Steuern "
                    "einbehält, wenn Sie für mehrere Arbeitgeber arbeiten, können Sie schon jetzt Ihre restlichen "
                    "Stunden planen oder Geld zurücklegen.",
                    action=_SEE_COUNTER["de"],
                ),
                "en": NoticeTexts(
                    subject="Your flexi income has reached {threshold} of the {year} ceiling",
                    body="According to the declarations received up to {as_of}, your flexi income for {year} is "
                    "{total}: {percent} of the tax-free ceiling of {limit}.{provisional}{forecast} Above the ceiling, "
                    "the excess is taxed as ordinary pay. Since nobody withholds tax on it when you work for several "
                    "employers, you can plan your remaining hours or put money aside now.",
                    action=_SEE_COUNTER["en"],
                ),
            },
        ),
        "passed": Variant(
            critical=True,
            texts={
                "nl": NoticeTexts(
                    subject="Uw flexi-inkomen is hoger dan het belastingvrije plafond voor {year}",
                    body="Volgens de aangiften die we tot {as_of} ontvingen, bedraagt uw flexi-inkomen voor {year} "
                    "{total}, boven het belastingvrije plafond van {limit}.{provisional} Het deel boven het plafond "
                    "wordt belast als gewoon loon. Omdat geen enkele werkgever uw totaal kent, houdt niemand daarop "
                    "belasting in: zet geld opzij voor uw belastingaanslag, of vraag een werkgever om meer "
                    "bedrijfsvoorheffing in te houden.",
                    action=_SEE_COUNTER["nl"],
                ),
                "fr": NoticeTexts(
                    subject="Vos revenus flexi dépassent le plafond exonéré {year}",
                    body="Selon les déclarations reçues jusqu'au {as_of}, vos revenus flexi pour {year} s'élèvent à "
                    "{total}, au-delà du plafond exonéré de {limit}.{provisional} La partie au-delà du plafond est "
                    "imposée comme un salaire ordinaire. Comme aucun employeur ne connaît votre total, personne ne "
                    "retient d'impôt sur cette partie : mettez de l'argent de côté pour votre impôt, ou demandez à un "
                    "employeur de retenir davantage de précompte professionnel.",
                    action=_SEE_COUNTER["fr"],
                ),
                "de": NoticeTexts(
                    subject="Ihr Flexi-Einkommen liegt über der steuerfreien Obergrenze für {year}",
                    body="Laut den bis zum {as_of} eingegangenen Meldungen beträgt Ihr Flexi-Einkommen für {year} "
                    "{total} und liegt damit über der steuerfreien Obergrenze von {limit}.{provisional} Der Teil über "
                    "der Obergrenze wird wie gewöhnlicher Lohn besteuert. Da kein Arbeitgeber Ihre Summe kennt, "
                    "behält niemand darauf Steuern ein: Legen Sie Geld für Ihre Steuer zurück oder bitten Sie einen "
                    "Arbeitgeber, mehr Berufssteuervorabzug einzubehalten.",
                    action=_SEE_COUNTER["de"],
                ),
                "en": NoticeTexts(
                    subject="Your flexi income has passed the {year} tax-free ceiling",
                    body="According to the declarations received up to {as_of}, your flexi income for {year} is "
                    "{total}, above the tax-free ceiling of {limit}.{provisional} The part above the ceiling is taxed "
                    "as ordinary pay. Since no employer knows your total, nobody withholds tax on it: put money aside "
                    "for your tax bill, or ask an employer to withhold more tax.",
                    action=_SEE_COUNTER["en"],
                ),
            },
        ),
    },
    fragments={
        "forecast": {
            "nl": " Aan dit tempo overschrijdt u het plafond rond {forecast}.",
            "fr": " À ce rythme, vous dépasserez le plafond vers le {forecast}.",
            "de": " Bei diesem Tempo überschreiten Sie die Obergrenze um den {forecast}.",
            "en": " At this pace you pass the ceiling around {forecast}.",
        },
        "provisional": {
            "nl": " Het plafond voor {year} is voorlopig tot het geïndexeerde bedrag bekend is.",
            "fr": " Le plafond {year} est provisoire jusqu'à la publication du montant indexé.",
            "de": " Die Obergrenze für {year} ist vorläufig, bis der indexierte Betrag veröffentlicht ist.",
            "en": " The {year} ceiling is provisional until the indexed amount is published.",
        },
    },
)

FLEXI_PENSION_LIMIT_V1 = NoticeTemplate(
    kind="flexi_pension_limit",
    version=1,
    action_path=_FLEXI_PAGE,
    variants={
        "near": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Uw flexi-inkomen nadert de grens voor uw vervroegd pensioen",
                    body="Volgens de aangiften die we tot {as_of} ontvingen, bedraagt uw flexi-inkomen voor {year} "
                    "{total}: {percent} van {limit}, het bedrag dat u in {year} als vervroegd gepensioneerde met "
                    "flexi-jobs mag verdienen zonder dat uw pensioen vermindert.{provisional}{forecast} Deze grens "
                    "gaat over uw pensioen, niet over uw belastingen. De Federale Pensioendienst kan u zeggen wat dit "
                    "voor u betekent.",
                    action=_SEE_COUNTER["nl"],
                ),
                "fr": NoticeTexts(
                    subject="Vos revenus flexi approchent la limite de votre pension anticipée",
                    body="Selon les déclarations reçues jusqu'au {as_of}, vos revenus flexi pour {year} s'élèvent à "
                    "{total} : {percent} de {limit}, le montant que vous pouvez gagner en flexi-job en {year} comme "
                    "pensionné anticipé sans que votre pension soit réduite.{provisional}{forecast} Cette limite "
                    "concerne votre pension, pas vos impôts. Le Service fédéral des Pensions peut vous dire ce que "
                    "cela signifie pour vous.",
                    action=_SEE_COUNTER["fr"],
                ),
                "de": NoticeTexts(
                    subject="Ihr Flexi-Einkommen nähert sich der Grenze für Ihre vorzeitige Pension",
                    body="Laut den bis zum {as_of} eingegangenen Meldungen beträgt Ihr Flexi-Einkommen für {year} "
                    "{total}: {percent} von {limit}, dem Betrag, den Sie {year} bei vorzeitiger Pension mit "
                    "Flexi-Jobs verdienen dürfen, ohne dass Ihre Pension gekürzt wird.{provisional}{forecast} Diese "
                    "Grenze betrifft Ihre Pension, nicht Ihre Steuern. Der Föderale Pensionsdienst kann Ihnen sagen, "
                    "was das für Sie bedeutet.",
                    action=_SEE_COUNTER["de"],
                ),
                "en": NoticeTexts(
                    subject="Your flexi income is nearing the limit for your early pension",
                    body="According to the declarations received up to {as_of}, your flexi income for {year} is "
                    "{total}: {percent} of {limit}, the amount you may earn from flexi-jobs in {year} as an early "
                    "retiree without your pension being reduced.{provisional}{forecast} This limit concerns your "
                    "pension, not your taxes. The Federal Pension Service can tell you what it means for you.",
                    action=_SEE_COUNTER["en"],
                ),
            },
        ),
        "passed": Variant(
            critical=True,
            texts={
                "nl": NoticeTexts(
                    subject="Uw flexi-inkomen is hoger dan de grens voor uw vervroegd pensioen",
                    body="Volgens de aangiften die we tot {as_of} ontvingen, bedraagt uw flexi-inkomen voor {year} "
                    "{total}, boven {limit}, het bedrag dat u in {year} als vervroegd gepensioneerde met flexi-jobs "
                    "mag verdienen zonder dat uw pensioen vermindert.{provisional} Uw pensioen kan verminderd worden. "
                    "Deze grens gaat over uw pensioen, niet over uw belastingen. Neem contact op met de Federale "
                    "Pensioendienst om te weten wat dit voor u betekent.",
                    action=_SEE_COUNTER["nl"],
                ),
                "fr": NoticeTexts(
                    subject="Vos revenus flexi dépassent la limite de votre pension anticipée",
                    body="Selon les déclarations reçues jusqu'au {as_of}, vos revenus flexi pour {year} s'élèvent à "
                    "{total}, au-delà de {limit}, le montant que vous pouvez gagner en flexi-job en {year} comme "
                    "pensionné anticipé sans que votre pension soit réduite.{provisional} Votre pension peut être "
                    "réduite. Cette limite concerne votre pension, pas vos impôts. Contactez le Service fédéral des "
                    "Pensions pour savoir ce que cela signifie pour vous.",
                    action=_SEE_COUNTER["fr"],
                ),
                "de": NoticeTexts(
                    subject="Ihr Flexi-Einkommen liegt über der Grenze für Ihre vorzeitige Pension",
                    body="Laut den bis zum {as_of} eingegangenen Meldungen beträgt Ihr Flexi-Einkommen für {year} "
                    "{total} und liegt damit über {limit}, dem Betrag, den Sie {year} bei vorzeitiger Pension mit "
                    "Flexi-Jobs verdienen dürfen, ohne dass Ihre Pension gekürzt wird.{provisional} Ihre Pension kann "
                    "gekürzt werden. Diese Grenze betrifft Ihre Pension, nicht Ihre Steuern. Wenden Sie sich an den "
                    "Föderalen Pensionsdienst, um zu erfahren, was das für Sie bedeutet.",
                    action=_SEE_COUNTER["de"],
                ),
                "en": NoticeTexts(
                    subject="Your flexi income is above the limit for your early pension",
                    body="According to the declarations received up to {as_of}, your flexi income for {year} is "
                    "{total}, above {limit}, the amount you may earn from flexi-jobs in {year} as an early retiree "
                    "without your pension being reduced.{provisional} Your pension may be reduced. This limit "
                    "concerns your pension, not your taxes. Contact the Federal Pension Service to find out what it "
                    "means for you.",
                    action=_SEE_COUNTER["en"],
                ),
            },
        ),
    },
    fragments={
        "forecast": {
            "nl": " Aan dit tempo overschrijdt u de grens rond {forecast}.",
            "fr": " À ce rythme, vous dépasserez la limite vers le {forecast}.",
            "de": " Bei diesem Tempo überschreiten Sie die Grenze um den {forecast}.",
            "en": " At this pace you pass the limit around {forecast}.",
        },
        "provisional": {
            "nl": " De grens voor {year} is voorlopig tot het geïndexeerde bedrag bekend is.",
            "fr": " La limite {year} est provisoire jusqu'à la publication du montant indexé.",
            "de": " Die Grenze für {year} ist vorläufig, bis der indexierte Betrag veröffentlicht ist.",
            "en": " The {year} limit is provisional until the indexed amount is published.",
        },
    },
)

MANDATE_EXPIRING_V1 = NoticeTemplate(
    kind="mandate_expiring",
    version=1,
    action_path="/mandates",
    variants={
        "citizen": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Een volmacht die u gaf, loopt binnenkort af",
                    body="Een volmacht die u aan een helper gaf, loopt af op {ends_on}. Vitrine verlengt een volmacht "
                    "nooit zonder uw toestemming: wilt u na die datum nog hulp, geef dan een nieuwe volmacht.",
                    action="Mijn volmachten bekijken",
                ),
                "fr": NoticeTexts(
                    subject="Un mandat que vous avez donné prend bientôt fin",
                    body="Un mandat que vous avez donné à un aidant prend fin le {ends_on}. Vitrine ne prolonge jamais "
                    "un mandat sans votre accord : si vous souhaitez encore cette aide après cette date, donnez un "
                    "nouveau mandat.",
                    action="Voir mes mandats",
                ),
                "de": NoticeTexts(
                    subject="Eine von Ihnen erteilte Vollmacht endet bald",
                    body="Eine Vollmacht, die Sie einer helfenden Person erteilt haben, endet am {ends_on}. Vitrine "
                    "verlängert eine Vollmacht nie ohne Ihre Zustimmung: Wenn Sie diese Hilfe nach diesem Datum "
                    "weiterhin wünschen, erteilen Sie eine neue Vollmacht.",
                    action="Meine Vollmachten ansehen",
                ),
                "en": NoticeTexts(
                    subject="A mandate you gave ends soon",
                    body="A mandate you gave to a helper ends on {ends_on}. Vitrine never extends a mandate without "
                    "your consent: if you still want this help after that date, give a new mandate.",
                    action="See my mandates",
                ),
            },
        ),
        "mandatary": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Een volmacht die u hebt, loopt binnenkort af",
                    body="Een volmacht die aan u of aan uw organisatie werd gegeven, loopt af op {ends_on}. Na die "
                    "datum kunt u met deze volmacht de gegevens van die persoon niet meer bekijken en niet meer voor "
                    "haar handelen. Moet uw hulp doorgaan, vraag de persoon dan om een nieuwe volmacht.",
                    action="Mijn volmachten bekijken",
                ),
                "fr": NoticeTexts(
                    subject="Un mandat que vous détenez prend bientôt fin",
                    body="Un mandat donné à vous ou à votre organisation prend fin le {ends_on}. Après cette date, "
                    "vous ne pourrez plus consulter les données de cette personne ni agir pour elle au titre de ce "
                    "mandat. Si votre aide doit continuer, demandez à la personne de donner un nouveau mandat.",
                    action="Voir mes mandats",
                ),
                "de": NoticeTexts(
                    subject="Eine Ihnen erteilte Vollmacht endet bald",
                    body="Eine Vollmacht, die Ihnen oder Ihrer Organisation erteilt wurde, endet am {ends_on}. Danach "
                    "können Sie im Rahmen dieser Vollmacht die Daten dieser Person nicht mehr einsehen und nicht mehr "
                    "für sie handeln. Wenn Ihre Hilfe weitergehen soll, bitten Sie die Person um eine neue Vollmacht.",
                    action="Meine Vollmachten ansehen",
                ),
                "en": NoticeTexts(
                    subject="A mandate you hold ends soon",
                    body="A mandate given to you or to your organisation ends on {ends_on}. After that date you can no "
                    "longer see that person's data or act for them under this mandate. If your help should continue, "
                    "ask the person to give a new mandate.",
                    action="See my mandates",
                ),
            },
        ),
    },
)

ACCESS_ALERT_V1 = NoticeTemplate(
    kind="access_alert",
    version=1,
    action_path="/access-log",
    variants={
        "default": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Een toegang tot uw gegevens viel op",
                    body="Op {occurred_on} werd een toegang tot uw gegevens gemarkeerd: {flag}. Bekijk in uw "
                    "toegangslogboek wie het was en waarom. Herkent u het niet, dan kunt u er in één stap een vraag "
                    "over stellen.",
                    action="Mijn toegangslogboek openen",
                ),
                "fr": NoticeTexts(
                    subject="Un accès à vos données a été signalé",
                    body="Le {occurred_on}, un accès à vos données a été signalé : {flag}. Vérifiez dans votre journal "
                    "des accès qui c'était et pourquoi. Si vous ne le reconnaissez pas, vous pouvez poser la question "
                    "en une étape.",
                    action="Ouvrir mon journal des accès",
                ),
                "de": NoticeTexts(
                    subject="Ein Zugriff auf Ihre Daten ist aufgefallen",
                    body="Am {occurred_on} wurde ein Zugriff auf Ihre Daten markiert: {flag}. Sehen Sie in Ihrem "
                    "Zugriffsprotokoll nach, wer es war und warum. Wenn Sie ihn nicht wiedererkennen, können Sie in "
                    "einem Schritt danach fragen.",
                    action="Mein Zugriffsprotokoll öffnen",
                ),
                "en": NoticeTexts(
                    subject="An access to your data stood out",
                    body="On {occurred_on}, an access to your data was flagged: {flag}. Check in your access log who "
                    "it was and why. If you do not recognise it, you can ask about it in one step.",
                    action="Open my access log",
                ),
            },
        ),
    },
    fragments={
        "first_institution": {
            "nl": "een instelling raadpleegde uw gegevens voor het eerst",
            "fr": "une institution a consulté vos données pour la première fois",
            "de": "eine Einrichtung hat zum ersten Mal auf Ihre Daten zugegriffen",
            "en": "an institution accessed your data for the first time",
        },
        "outside_purpose": {
            "nl": "gegevens buiten het doel dat de organisatie opgaf",
            "fr": "des données en dehors de la finalité déclarée par l'organisation",
            "de": "Daten außerhalb des von der Organisation angegebenen Zwecks",
            "en": "data outside the purpose the organisation stated",
        },
        "helper": {
            "nl": "een toegang door een helper of een medewerker van een organisatie",
            "fr": "un accès par un aidant ou un agent d'une organisation",
            "de": "ein Zugriff durch eine helfende Person oder einen Mitarbeiter einer Organisation",
            "en": "an access by a helper or an organisation's agent",
        },
        "burst": {
            "nl": "veel toegangen door één persoon in korte tijd",
            "fr": "de nombreux accès par une même personne en peu de temps",
            "de": "viele Zugriffe durch dieselbe Person in kurzer Zeit",
            "en": "many accesses by one person in a short time",
        },
        "night": {
            "nl": "een toegang 's nachts (22:00 tot 06:00)",
            "fr": "un accès la nuit (de 22 h à 6 h)",
            "de": "ein Zugriff in der Nacht (22:00 bis 06:00 Uhr)",
            "en": "an access at night (22:00 to 06:00)",
        },
    },
)

CONTEST_ANSWERED_V1 = NoticeTemplate(
    kind="contest_answered",
    version=1,
    action_path="/access-log/contests/{contest_id}",
    variants={
        "default": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Uw vraag over een toegang is beantwoord",
                    body="Een behandelaar heeft uw vraag over een toegang tot uw gegevens beantwoord. Lees het "
                    "antwoord op de pagina van uw vraag.",
                    action="Het antwoord lezen",
                ),
                "fr": NoticeTexts(
                    subject="Votre question sur un accès a reçu une réponse",
                    body="Un gestionnaire a répondu à votre question sur un accès à vos données. Lisez la réponse sur "
                    "la page de votre question.",
                    action="Lire la réponse",
                ),
                "de": NoticeTexts(
                    subject="Ihre Frage zu einem Zugriff wurde beantwortet",
                    body="Eine zuständige Person hat Ihre Frage zu einem Zugriff auf Ihre Daten beantwortet. Lesen Sie "
                    "die Antwort auf der Seite Ihrer Frage.",
                    action="Antwort lesen",
                ),
                "en": NoticeTexts(
                    subject="Your question about an access has been answered",
                    body="A reviewer has answered your question about an access to your data. Read the answer on the "
                    "page of your question.",
                    action="Read the answer",
                ),
            },
        ),
    },
)

ERROR_REPORT_ANSWERED_V1 = NoticeTemplate(
    kind="error_report_answered",
    version=1,
    action_path="/my-data/error-reports/{report_id}",
    variants={
        "default": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="De instelling heeft geantwoord op de fout die u meldde",
                    body="De instelling die de gegevens aangaf, heeft geantwoord op de fout die u in uw gegevens "
                    "meldde. Lees het antwoord bij uw melding.",
                    action="Het antwoord lezen",
                ),
                "fr": NoticeTexts(
                    subject="L'institution a répondu à l'erreur que vous avez signalée",
                    body="L'institution qui a déclaré les données a répondu à l'erreur que vous avez signalée dans vos "
                    "données. Lisez la réponse avec votre signalement.",
                    action="Lire la réponse",
                ),
                "de": NoticeTexts(
                    subject="Die Einrichtung hat auf den von Ihnen gemeldeten Fehler geantwortet",
                    body="Die Einrichtung, die die Daten gemeldet hat, hat auf den Fehler geantwortet, den Sie in "
                    "Ihren Daten gemeldet haben. Lesen Sie die Antwort bei Ihrer Meldung.",
                    action="Antwort lesen",
                ),
                "en": NoticeTexts(
                    subject="The institution has answered the error you reported",
                    body="The institution that declared the data has answered the error you reported in your data. "
                    "Read the answer with your report.",
                    action="Read the answer",
                ),
            },
        ),
    },
)

DESK_SESSION_OPENED_V1 = NoticeTemplate(
    kind="desk_session_opened",
    version=1,
    action_path="/desk-help",
    variants={
        "default": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Een medewerker aan een loket heeft uw dossier geopend",
                    body="Op {opened_on} om {opened_time} heeft een medewerker van {office} (referentie {agent_ref}) "
                    "uw dossier geopend om u te helpen. Opgegeven reden: {reason}. Alles wat de medewerker in deze "
                    "sessie doet, staat op uw pagina 'Hulp aan een loket' en in uw toegangslogboek. Was u niet aan "
                    "een loket, meld het dan meteen vanuit uw toegangslogboek.",
                    action="Bekijken wat er gebeurde",
                ),
                "fr": NoticeTexts(
                    subject="Un agent d'un guichet a ouvert votre dossier",
                    body="Le {opened_on} à {opened_time}, un agent de {office} (référence {agent_ref}) a ouvert votre "
                    "dossier pour vous aider. Motif indiqué : {reason}. Tout ce que l'agent fait pendant cette session "
                    "figure sur votre page « Aide à un guichet » et dans votre journal des accès. Si vous n'étiez pas "
                    "à un guichet, signalez-le immédiatement depuis votre journal des accès.",
                    action="Voir ce qui s'est passé",
                ),
                "de": NoticeTexts(
                    subject="Ein Mitarbeiter an einem Schalter hat Ihre Akte geöffnet",
                    body="Am {opened_on} um {opened_time} hat ein Mitarbeiter von {office} (Referenz {agent_ref}) Ihre "
                    "Akte geöffnet, um Ihnen zu helfen. Angegebener Grund: {reason}. Alles, was der Mitarbeiter in "
                    "dieser Sitzung tut, steht auf Ihrer Seite „Hilfe an einem Schalter“ und in Ihrem "
                    "Zugriffsprotokoll. Wenn Sie nicht an einem Schalter waren, melden Sie es sofort über Ihr "
                    "Zugriffsprotokoll.",
                    action="Ansehen, was geschah",
                ),
                "en": NoticeTexts(
                    subject="An agent at a help desk opened your file",
                    body="On {opened_on} at {opened_time}, an agent at {office} (reference {agent_ref}) opened your "
                    "file to help you. Reason given: {reason}. Everything the agent does in this session is listed on "
                    "your 'Help at a desk' page and in your access log. If you were not at a desk, tell us at once "
                    "from your access log.",
                    action="See what happened",
                ),
            },
        ),
    },
)

DESK_MANDATE_CODE_V1 = NoticeTemplate(
    kind="desk_mandate_code",
    version=1,
    action_path="/desk-help/confirm",
    variants={
        "default": Variant(
            critical=False,
            texts={
                "nl": NoticeTexts(
                    subject="Uw code om een volmacht te bevestigen die aan een loket werd voorbereid",
                    body="Een medewerker van {office} heeft samen met u een volmacht voorbereid. Die wordt pas "
                    "gegeven als u ze zelf bevestigt. Uw code is {code}. Vul ze in op de pagina 'Een volmacht "
                    "bevestigen' vóór {expires_time} op {expires_on}. Hebt u hier niet om gevraagd, doe dan niets: "
                    "de volmacht wordt niet gegeven.",
                    action="De volmacht bevestigen",
                ),
                "fr": NoticeTexts(
                    subject="Votre code pour confirmer un mandat préparé à un guichet",
                    body="Un agent de {office} a préparé un mandat avec vous. Il n'est donné que si vous le confirmez "
                    "vous-même. Votre code est {code}. Saisissez-le sur la page « Confirmer un mandat » avant "
                    "{expires_time} le {expires_on}. Si vous n'avez rien demandé, ne faites rien : le mandat ne sera "
                    "pas donné.",
                    action="Confirmer le mandat",
                ),
                "de": NoticeTexts(
                    subject="Ihr Code zur Bestätigung einer an einem Schalter vorbereiteten Vollmacht",
                    body="Ein Mitarbeiter von {office} hat mit Ihnen eine Vollmacht vorbereitet. Sie wird nur erteilt, "
                    "wenn Sie sie selbst bestätigen. Ihr Code lautet {code}. Geben Sie ihn vor {expires_time} Uhr am "
                    "{expires_on} auf der Seite „Eine Vollmacht bestätigen“ ein. Wenn Sie nichts beantragt haben, tun "
                    "Sie nichts: Die Vollmacht wird nicht erteilt.",
                    action="Die Vollmacht bestätigen",
                ),
                "en": NoticeTexts(
                    subject="Your code to confirm a mandate prepared at a desk",
                    body="An agent at {office} prepared a mandate with you. It is given only if you confirm it "
                    "yourself. Your code is {code}. Enter it on the page 'Confirm a mandate' before {expires_time} on "
                    "{expires_on}. If you did not ask for this, do nothing: the mandate will not be given.",
                    action="Confirm the mandate",
                ),
            },
        ),
    },
)

EMAIL_V1 = EmailTemplate(
    version=1,
    texts={
        "nl": EmailTexts(
            subject="U hebt een nieuw bericht in Vitrine",
            greeting="Goeiedag,",
            intro="Er wacht een nieuw bericht op u in uw Vitrine-inbox. Om uw privacy te beschermen, zegt deze e-mail "
            "niet waarover het gaat.",
            read_prompt="Lees het nadat u zich hebt aangemeld:",
            link_label="Het bericht lezen",
            footer="Deze e-mail werd automatisch verstuurd; antwoorden worden niet gelezen.",
            preferences_label="Kies welke berichten u ook per e-mail krijgt",
        ),
        "fr": EmailTexts(
            subject="Vous avez un nouveau message dans Vitrine",
            greeting="Bonjour,",
            intro="Un nouveau message vous attend dans votre boîte Vitrine. Pour protéger votre vie privée, cet e-mail "
            "ne dit pas de quoi il s'agit.",
            read_prompt="Lisez-le après vous être connecté :",
            link_label="Lire le message",
            footer="Cet e-mail a été envoyé automatiquement ; les réponses ne sont pas lues.",
            preferences_label="Choisir quels messages vous recevez aussi par e-mail",
        ),
        "de": EmailTexts(
            subject="Sie haben eine neue Nachricht in Vitrine",
            greeting="Guten Tag,",
            intro="In Ihrem Vitrine-Postfach wartet eine neue Nachricht auf Sie. Zum Schutz Ihrer Privatsphäre sagt "
            "diese E-Mail nicht, worum es geht.",
            read_prompt="Lesen Sie sie nach der Anmeldung:",
            link_label="Nachricht lesen",
            footer="Diese E-Mail wurde automatisch versandt; Antworten werden nicht gelesen.",
            preferences_label="Wählen, welche Nachrichten Sie auch per E-Mail erhalten",
        ),
        "en": EmailTexts(
            subject="You have a new message in Vitrine",
            greeting="Hello,",
            intro="A new message is waiting for you in your Vitrine inbox. To protect your privacy, this e-mail does "
            "not say what it is about.",
            read_prompt="Read it after signing in:",
            link_label="Read the message",
            footer="This e-mail was sent automatically; replies are not read.",
            preferences_label="Choose which messages also reach you by e-mail",
        ),
    },
)

# Every version ever used, oldest first, per kind; the last one is the one in force.
HISTORY: Final[dict[str, tuple[NoticeTemplate, ...]]] = {
    "flexi_ceiling": (FLEXI_CEILING_V1,),
    "flexi_pension_limit": (FLEXI_PENSION_LIMIT_V1,),
    "mandate_expiring": (MANDATE_EXPIRING_V1,),
    "access_alert": (ACCESS_ALERT_V1,),
    "contest_answered": (CONTEST_ANSWERED_V1,),
    "error_report_answered": (ERROR_REPORT_ANSWERED_V1,),
    "desk_session_opened": (DESK_SESSION_OPENED_V1,),
    "desk_mandate_code": (DESK_MANDATE_CODE_V1,),
}
EMAIL_HISTORY: Final[tuple[EmailTemplate, ...]] = (EMAIL_V1,)


def current_template(kind: str) -> NoticeTemplate:
    """The template version in force for a kind (KeyError for an unknown kind)."""
    return HISTORY[kind][-1]


def current_email_template() -> EmailTemplate:
    """The e-mail wording in force."""
    return EMAIL_HISTORY[-1]
