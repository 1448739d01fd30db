"""The extract stage's entities: the real memos against the gold, and texts written for the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyze.entity_counts import entity_counts
from pipeline.config import DATA_DIR, Context, Paths, load_settings
from pipeline.evaluate import evaluate_gold_file
from pipeline.extract.entities import ENTITY_COLUMNS, acronym_forms, apply_acronym_forms
from pipeline.extract.gazetteer import load_knowledge, name_parts, title_cased
from pipeline.extract.nlp_pipeline import build_pipeline, extraction_pipeline
from pipeline.extract.stage import UNIT_FIELDS, extract_units
from pipeline.tableio import read_table
from tests.conftest import GOLD, copy_memos, run_cli

MODEL = "en_core_web_sm"
DEV = GOLD.parent / "dev"
_RUNS: dict[str, Path] = {}


def extracted_memos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ingest + extract of the two memos into a temporary processed folder, once per session
    (the other test modules call this too)."""
    if "memos" not in _RUNS:
        root = tmp_path_factory.mktemp("extract")
        raw = copy_memos(root / "raw")
        processed = root / "processed"
        for stage in ("ingest", "extract"):
            assert run_cli(stage, "--raw", raw, "--processed", processed, "--jobs", "1") == 0
        _RUNS["memos"] = processed
    return _RUNS["memos"]


def extracted_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ingest + extract of the development corpus (tests/gold/dev/docs), once per session."""
    if "dev" not in _RUNS:
        root = tmp_path_factory.mktemp("dev")
        raw = root / "raw"
        shutil.copytree(DEV / "docs", raw)
        processed = root / "processed"
        for stage in ("ingest", "extract"):
            assert run_cli(stage, "--raw", raw, "--processed", processed, "--jobs", "2") == 0
        _RUNS["dev"] = processed
    return _RUNS["dev"]


def memo_context(processed: Path) -> Context:
    return Context(
        paths=Paths(raw=processed.parent / "raw", processed=processed), settings=load_settings(), jobs=1
    )


def units_frame(*items: tuple[str, str], level: int = 0) -> pd.DataFrame:
    """Units as units.csv would hold them: (kind, text) pairs, one block each."""
    rows = [
        {
            "unit_id": str(i),
            "section": "",
            "kind": kind,
            "text": text,
            "block": str(i),
            "level": str(level),
            "marker": "",
        }
        for i, (kind, text) in enumerate(items, start=1)
    ]
    return pd.DataFrame(rows, columns=UNIT_FIELDS)


def entities_of(text: str, kind: str = "sentence", data_dir: str = "") -> pd.DataFrame:
    result = extract_units("test", units_frame((kind, text)), MODEL, data_dir)
    return pd.DataFrame(result.entities, columns=ENTITY_COLUMNS)


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extracted_memos(tmp_path_factory)


@pytest.fixture(scope="module")
def entities(processed: Path) -> pd.DataFrame:
    return read_table(processed / "entities.csv")


@pytest.fixture(scope="module")
def doc_ids(processed: Path) -> dict[str, str]:
    documents = read_table(processed / "documents.csv")
    return {
        source[:4]: doc_id for source, doc_id in zip(documents["source"], documents["doc_id"], strict=True)
    }


@pytest.fixture(scope="module")
def scores(processed: Path) -> dict:
    knowledge = load_knowledge()
    systems, missing, _ = evaluate_gold_file(GOLD, memo_context(processed), knowledge, baselines=False)
    assert not missing
    return systems["project"]


# --------------------------------------------------------------------------- floors on the memos


def test_country_f1_is_perfect(scores: dict) -> None:
    assert scores["countries"].f1 == 1.0


def test_organization_f1_floor(scores: dict) -> None:
    assert scores["organizations"].f1 >= 0.95


def test_region_f1_floor(scores: dict) -> None:
    assert scores["regions"].f1 >= 0.9


def test_entities_table_follows_the_contract(entities: pd.DataFrame) -> None:
    assert list(entities.columns[:6]) == ["doc_id", "unit_id", "text", "label", "canonical", "iso3"]
    assert set(entities["label"]) <= {"ORG", "COUNTRY", "REGION"}
    countries = entities[entities["label"] == "COUNTRY"]
    assert countries["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert (entities.loc[entities["label"] != "COUNTRY", "iso3"] == "").all()


# --------------------------------------------------------------------------- specific behaviours


def canonicals(entities: pd.DataFrame, doc_id: str, label: str) -> set[str]:
    rows = entities[(entities["doc_id"] == doc_id) & (entities["label"] == label)]
    return set(rows["canonical"])


def test_bodies_the_plain_model_misses_are_found(entities: pd.DataFrame, doc_ids: dict[str, str]) -> None:
    found = canonicals(entities, doc_ids["2013"], "ORG")
    for name in (
        "1540 Committee",
        "United Nations Office for Disarmament Affairs (UNODA)",
        "Central American Integration System (SICA)",
        "Group of Experts of the 1540 Committee",
    ):
        assert name in found
    assert any(name.startswith("Africa Peace Forum") for name in found)
    assert "Committee" not in found


def test_title_case_headings_give_no_model_org(entities: pd.DataFrame, processed: Path) -> None:
    units = read_table(processed / "units.csv")
    knowledge = load_knowledge()
    titles = units[
        (units["kind"] == "heading") & units["text"].map(lambda t: title_cased(t.split(), knowledge.rules))
    ]
    from_model = entities[entities["source"] == "model"].merge(
        titles[["doc_id", "unit_id"]], on=["doc_id", "unit_id"]
    )
    assert from_model.empty
    assert not entities["text"].str.contains("Seen as|Recommendations for Renewal", regex=True).any()


def test_a_quoted_title_is_not_an_organization(entities: pd.DataFrame) -> None:
    assert not entities["canonical"].str.contains("Harmony Among Nations").any()


def test_demonyms_and_names_inside_organizations_are_not_countries(
    entities: pd.DataFrame, doc_ids: dict[str, str]
) -> None:
    countries = set(
        entities.loc[(entities["doc_id"] == doc_ids["2013"]) & (entities["label"] == "COUNTRY"), "iso3"]
    )
    assert "MYS" not in countries  # National University of Malaysia
    assert "JOR" not in countries  # Jordanian
    assert {"KOR", "RUS", "TUR", "USA"} <= countries
    assert "National University of Malaysia" in canonicals(entities, doc_ids["2013"], "ORG")
    regions = canonicals(entities, doc_ids["2013"], "REGION")
    assert "Middle East" in regions  # named as a region elsewhere, not only inside MESIS


def test_a_country_in_the_letterhead_counts(entities: pd.DataFrame, doc_ids: dict[str, str]) -> None:
    rows = entities[(entities["doc_id"] == doc_ids["2011"]) & (entities["label"] == "COUNTRY")]
    assert set(rows["iso3"]) == {"USA"}


def test_acronym_and_full_name_share_one_canonical_name(
    entities: pd.DataFrame, doc_ids: dict[str, str]
) -> None:
    iaea = entities[entities["canonical"] == "International Atomic Energy Agency (IAEA)"]
    assert set(iaea["doc_id"]) == {doc_ids["2011"], doc_ids["2013"]}
    assert {"IAEA", "International Atomic Energy Agency"} <= set(iaea["text"])


# --------------------------------------------------------------------------- texts written for the tests


def test_country_names_codes_and_aliases() -> None:
    found = entities_of(
        "Officials from South Korea, Turkey, Russia, the UK, the USA, Viet Nam, the Holy See "
        "and the State of Palestine met in New York and Iowa with Türkiye's delegation."
    )
    assert sorted(found.loc[found["label"] == "COUNTRY", "iso3"].unique()) == sorted(
        ["KOR", "TUR", "RUS", "GBR", "USA", "VNM", "VAT", "PSE"]
    )


def test_country_words_in_lower_case_and_codes_in_capitals_are_not_countries() -> None:
    assert entities_of("They served turkey and chad at the dinner.").empty
    assert entities_of("CONTACT US FOR MORE DETAILS", kind="heading").empty


def test_names_in_capitals_are_read_in_a_letterhead() -> None:
    found = entities_of(
        "CARNEGIE ENDOWMENT FOR INTERNATIONAL PEACE, 1779 MAIN AVENUE, UNITED KINGDOM", "boilerplate"
    )
    assert names(found) == ["Carnegie Endowment for International Peace"]
    assert names(found, "COUNTRY") == ["United Kingdom of Great Britain and Northern Ireland"]


def test_a_body_named_before_resolution_names_a_document() -> None:
    found = entities_of("States reported on UN Security Council Resolution 1540 to the Security Council.")
    orgs = found[found["label"] == "ORG"]
    assert list(orgs["text"]) == ["Security Council"]
    assert list(orgs["canonical"]) == ["UN Security Council"]


def test_model_org_spans_are_cleaned() -> None:
    found = entities_of("Fellows of the Henley Institute for Border Studies's programme met the Committee.")
    orgs = found[found["label"] == "ORG"]
    assert list(orgs["canonical"]) == ["Henley Institute for Border Studies"]
    assert list(orgs["source"]) == ["model"]


def test_an_acronym_defined_in_the_text_is_learned() -> None:
    units = units_frame(
        ("sentence", "Members of the Regional Nonproliferation Network (RNN) attended."),
        ("sentence", "Weapons of Mass Destruction (WMD) were discussed."),
        ("list_item", "The RNN will report in June."),
    )
    result = pd.DataFrame(extract_units("test", units, MODEL).entities, columns=ENTITY_COLUMNS)
    rnn = result[result["canonical"] == "Regional Nonproliferation Network (RNN)"]
    assert list(rnn["unit_id"]) == ["1", "3"]
    assert not result["canonical"].str.contains("Mass Destruction").any()


def test_acronyms_resolve_to_the_gazetteer_name() -> None:
    found = entities_of("The Organization of American States (OAS) and the OPCW spoke.")
    assert set(found["canonical"]) == {
        "Organization of American States (OAS)",
        "Organisation for the Prohibition of Chemical Weapons (OPCW)",
    }


def test_model_names_take_the_acronym_form_defined_in_another_document() -> None:
    frame = pd.DataFrame(
        [
            [
                "a",
                "1",
                "Pacific Border Institute",
                "ORG",
                "Pacific Border Institute (PBI)",
                "",
                0,
                24,
                "acronym",
            ]
            + ["organization", False],
            ["b", "1", "Pacific Border Institute", "ORG", "Pacific Border Institute", "", 0, 24, "model"]
            + ["organization", False],
        ],
        columns=ENTITY_COLUMNS,
    )
    forms = acronym_forms(frame.loc[frame["label"] == "ORG", "canonical"].unique())
    assert set(apply_acronym_forms(frame, forms)["canonical"]) == {"Pacific Border Institute (PBI)"}


def test_adding_a_line_to_organizations_csv_adds_an_organization(tmp_path: Path) -> None:
    text = "Experts from the Blue Lantern Collective and BLC staff attended."
    assert entities_of(text).empty
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with open(data / "organizations.csv", "a", encoding="utf-8") as handle:
        handle.write("Blue Lantern Collective (BLC),BLC,,ngo\n")
    found = entities_of(text, data_dir=str(data))
    assert list(found["text"]) == ["Blue Lantern Collective", "BLC"]
    assert set(found["canonical"]) == {"Blue Lantern Collective (BLC)"}


def test_the_data_folder_setting_reaches_the_stage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()  # only the file the user extends; the others come from the package
    regions = (DATA_DIR / "regions.csv").read_text(encoding="utf-8")
    (data / "regions.csv").write_text(regions + "Lantern Coast,,subregion\n", encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "note.md").write_text(
        "# Note\n\nStates of the Lantern Coast should share data.\n", encoding="utf-8"
    )
    config = tmp_path / "pipeline.toml"
    config.write_text(f'[extract]\ndata_dir = "{data.as_posix()}"\n', encoding="utf-8")
    processed = tmp_path / "processed"
    for stage in ("ingest", "extract"):
        assert run_cli(stage, "--raw", raw, "--processed", processed, "--config", config, "--jobs", "1") == 0
    entities = read_table(processed / "entities.csv")
    assert "Lantern Coast" in set(entities.loc[entities["label"] == "REGION", "canonical"])


def test_a_missing_model_is_one_clear_error(processed: Path, tmp_path: Path) -> None:
    target = tmp_path / "processed"
    target.mkdir()
    shutil.copy2(processed / "units.csv", target / "units.csv")
    with pytest.raises(SystemExit, match="en_core_web_nonexistent"):
        run_cli("extract", "--processed", target, "--model", "en_core_web_nonexistent", "--jobs", "1")


# --------------------------------------------------------------------------- knowledge files and pipeline


def test_countries_csv_covers_the_un_members_and_observers() -> None:
    table = pd.read_csv(DATA_DIR / "countries.csv", dtype=str, keep_default_na=False)
    assert len(table) == 195
    assert table["iso3"].is_unique
    assert {"VAT", "PSE", "KOR", "PRK", "SSD"} <= set(table["iso3"])


def test_pipeline_loads_only_what_it_uses() -> None:
    nlp = extraction_pipeline(MODEL, "")
    assert not {"lemmatizer", "attribute_ruler", "senter"} & set(nlp.component_names)
    assert {"gazetteer_matcher", "entity_resolver", "acronym_finder", "recommendation_cue"} <= set(
        nlp.pipe_names
    )


def test_the_parser_and_ner_run_only_where_their_output_is_used() -> None:
    nlp = extraction_pipeline(MODEL, "")
    plain, advice, named = nlp.pipe(
        [
            "The meeting took place in Vienna in March.",
            "Participants urged States to report.",
            "The Henley Institute hosted it.",
        ]
    )
    assert not plain.has_annotation("DEP") and not plain._.needs_ner
    assert advice.has_annotation("DEP")
    assert named._.needs_ner and not named._.needs_syntax


def test_build_pipeline_gives_a_fresh_pipeline_each_time() -> None:
    assert build_pipeline(MODEL) is not build_pipeline(MODEL)


# --------------------------------------------------------------------------- the development corpus


def test_entity_floors_on_the_development_corpus(tmp_path_factory: pytest.TempPathFactory) -> None:
    processed = extracted_dev(tmp_path_factory)
    systems, missing, _ = evaluate_gold_file(
        DEV / "gold.json", memo_context(processed), load_knowledge(), False
    )
    project = systems["project"]
    assert not missing
    assert project["organizations"].f1 >= 0.93
    assert project["countries"].f1 >= 0.98
    assert project["regions"].f1 >= 0.90


# --------------------------------------------------------------------------- entity rules, each way round


def names(found: pd.DataFrame, label: str = "ORG") -> list[str]:
    return list(found.loc[found["label"] == label, "canonical"])


def test_bodies_nobody_listed_are_found_by_their_head_word() -> None:
    found = entities_of(
        "Inspectors of the Atomic Energy Regulator and the State Customs Committee met staff of "
        "the Ministry of Science and Technology and of Tarkov Polytechnic University."
    )
    assert names(found) == [
        "Atomic Energy Regulator",
        "State Customs Committee",
        "Ministry of Science and Technology",
        "Tarkov Polytechnic University",
    ]
    assert entities_of("Several Ministry officials spoke, and Member States and the Committee agreed.").empty


def test_two_bodies_joined_by_and_are_two_mentions() -> None:
    found = entities_of("The Ministry of Defence and Border Guard Service reported to Ghana.")
    assert names(found) == ["Ministry of Defence", "Border Guard Service"]
    assert names(found, "COUNTRY") == ["Ghana"]
    assert names(entities_of("Staff of the Department of Mines and Energy reported.")) == [
        "Department of Mines and Energy"
    ]


def test_a_name_the_model_cuts_short_is_read_to_its_end_with_an_acronym_in_any_language() -> None:
    found = entities_of(
        "Trainers from the Lusitanian Agency for Radiological and Nuclear Protection (ALPRN) "
        "spoke; the ALPRN will host the next round."
    )
    assert names(found) == ["Lusitanian Agency for Radiological and Nuclear Protection (ALPRN)"] * 2


def test_a_name_ends_before_in_a_city_but_keeps_in_a_region() -> None:
    found = entities_of("Envoys met at the Lakeside Forum on Export Controls in Brussels.")
    assert names(found) == ["Lakeside Forum on Export Controls"]
    found = entities_of("Envoys met at the Harbour Institute for Peace in Africa.")
    assert names(found) == ["Harbour Institute for Peace in Africa"] and names(found, "REGION") == []


def test_a_title_case_heading_is_not_read_as_names_but_a_field_line_is() -> None:
    assert entities_of("Licensing Offices Report Steady Progress Across Ministries", kind="heading").empty
    found = entities_of(
        "Hosts: the Strategic Goods Licensing Office, with support from donors", kind="heading"
    )
    assert names(found) == ["Strategic Goods Licensing Office"]


def test_acronym_long_forms_in_capitals_markup_or_led_by_their_head_word() -> None:
    units = units_frame(
        ("boilerplate", "NORTHERN CORRIDOR INSTITUTE FOR TRADE SECURITY (NCITS)"),
        ("sentence", "_Lakeside Export Compliance Network (LECN)_ and Bureau Veritas Kenya (BVK) spoke."),
    )
    result = pd.DataFrame(extract_units("test", units, MODEL).entities, columns=ENTITY_COLUMNS)
    assert set(result["canonical"]) == {
        "Northern Corridor Institute for Trade Security (NCITS)",
        "Lakeside Export Compliance Network (LECN)",
        "Bureau Veritas Kenya (BVK)",
    }
    assert list(result["in_boilerplate"]) == [True, False, False]


def test_a_year_in_parentheses_is_part_of_a_name() -> None:
    assert name_parts("Panel established pursuant to resolution 1874 (2009)")[1] == ""
    assert name_parts("International Atomic Energy Agency (IAEA)")[1] == "IAEA"


def test_a_possessive_before_a_body_names_its_owner(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    organizations = (DATA_DIR / "organizations.csv").read_text(encoding="utf-8")
    (data / "organizations.csv").write_text(
        organizations + "Panel of the Lantern Council,,Lantern Council's Panel,un\nLantern Council,,,un\n",
        encoding="utf-8",
    )
    found = entities_of("Advice came from the Lantern Council's Panel last week.", data_dir=str(data))
    assert sorted(names(found)) == ["Lantern Council", "Panel of the Lantern Council"]
    found = entities_of("Ghana's Radiation Protection Board and the Kenya Revenue Authority spoke.")
    assert names(found, "COUNTRY") == ["Ghana"]  # a possessive counts; a name's own word does not
    found = entities_of("The Bureau of Standards of Ghana's Ministry of Trade took part.")
    assert names(found) == ["Bureau of Standards", "Ministry of Trade"]
    assert names(found, "COUNTRY") == ["Ghana"]
    found = entities_of("The Ministry of the Interior of Togo and the Central Bank of Togo met.")
    assert names(found) == ["Ministry of the Interior", "Central Bank of Togo"]
    assert names(found, "COUNTRY") == ["Togo"]  # after a complete name the state is its owner


def test_cities_demonyms_and_capitals_for_governments_are_not_countries() -> None:
    found = entities_of(
        "Moscow stated its view, Ghanaian officials agreed, and delegates met in Port of Spain, "
        "Mexico City and Kuwait City, while Mexico and Kuwait sent experts."
    )
    assert names(found, "COUNTRY") == ["Mexico", "Kuwait"]


def test_programmes_regimes_treaties_and_initiatives_are_kept_apart() -> None:
    found = entities_of(
        "The Wassenaar Arrangement, the EXBS Program, the Chemical Weapons Convention, the Global "
        "Health Security Agenda and the Riverside Export Control Programme met the World Bank."
    )
    kinds = dict(zip(found["canonical"], found["kind"], strict=True))
    assert kinds == {
        "Wassenaar Arrangement": "regime",
        "Export Control and Related Border Security Program (EXBS)": "programme",
        "Chemical Weapons Convention (CWC)": "treaty",
        "Global Health Security Agenda (GHSA)": "initiative",
        "Riverside Export Control Programme": "programme",
        "World Bank": "organization",
    }


def test_regions_of_the_broader_gazetteer_but_not_inside_a_name() -> None:
    found = entities_of(
        "Routes from the Sahel, the Horn of Africa, the MENA region, the post-Soviet space, the "
        "Gulf and the Western Balkans reach the Asia-Pacific."
    )
    assert names(found, "REGION") == [
        "Sahel",
        "Horn of Africa",
        "Middle East and North Africa",
        "Former Soviet Union",
        "Gulf region",
        "Western Balkans",
        "Asia-Pacific",
    ]
    found = entities_of(
        "The Gulf Cooperation Council, Asia-Pacific Economic Cooperation and the Economic Community "
        "of West African States met."
    )
    assert names(found, "REGION") == []


def test_boilerplate_mentions_are_kept_but_not_counted() -> None:
    units = units_frame(
        ("boilerplate", "Harbour Street 4, Accra, Ghana"),
        ("sentence", "Delegates from Togo and Ghana attended with the Wassenaar Arrangement."),
    )
    result = pd.DataFrame(extract_units("memo", units, MODEL).entities, columns=ENTITY_COLUMNS)
    assert list(zip(result["canonical"], result["in_boilerplate"], strict=True)) == [
        ("Ghana", True),
        ("Togo", False),
        ("Ghana", False),
        ("Wassenaar Arrangement", False),
    ]
    confs = pd.DataFrame(
        {
            "doc_id": ["memo"],
            "conference": ["c"],
            "year": ["2020"],
            "conference_label": ["c"],
            "conference_order": [0],
        }
    )
    counts = entity_counts(result.astype({"in_boilerplate": str}), confs)
    assert dict(zip(counts["canonical"], counts["n_mentions"], strict=True)) == {"Ghana": 1, "Togo": 1}
