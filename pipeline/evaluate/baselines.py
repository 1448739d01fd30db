"""The two baselines printed beside the project: plain spaCy NER and a keyword rule."""

from __future__ import annotations

import re

import pandas as pd

from pipeline.evaluate.scoring import Predictions

KEYWORDS = re.compile(r"(?i)\b(?:should|must|could)\b")


def keyword_predictions(units: pd.DataFrame) -> Predictions:
    """Baseline: every unit whose text contains should, must or could."""
    return Predictions(recommendations=[t for t in units["text"] if KEYWORDS.search(t)])


def plain_country_code(name: str) -> str | None:
    """What a plain pycountry lookup makes of a GPE mention."""
    import pycountry

    try:
        return pycountry.countries.lookup(name.strip()).alpha_3
    except LookupError:
        return None


def plain_ner_predictions(units: pd.DataFrame, model: str) -> Predictions:
    """Baseline: the model with its default components on each unit; ORG as written, GPE
    through pycountry, LOC as regions."""
    from pipeline.nlp import load_model

    nlp = load_model(model)
    countries, orgs, regions = set(), set(), set()
    for doc in nlp.pipe(list(units["text"]), batch_size=64):
        for ent in doc.ents:
            if ent.label_ == "ORG":
                orgs.add(ent.text)
            elif ent.label_ == "GPE":
                code = plain_country_code(ent.text)
                if code:
                    countries.add(code)
            elif ent.label_ == "LOC":
                regions.add(ent.text)
    return Predictions(countries=countries, organizations=orgs, regions=regions)
