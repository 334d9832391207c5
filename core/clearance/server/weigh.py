"""What an approver weighs for each rule a record meets: the approver's side of a finding.

A finding's ``remedy`` is written to the artist (what to change, what to request). The approver needs the
other side: what to look at before saying yes, and what conditions usually go with a yes. Keyed by rule
code; a rule not listed here (a studio's own rule pack) gets the generic line.
"""

from __future__ import annotations

WEIGH: dict[str, str] = {
    "BASELINE": "Nothing to decide: the use is disclosed. Read it for anything the answers do not say.",
    "P1": "Does the output recreate identifiable traits of work the production does not own? Compare it with the "
          "references named; ask for the rights clearance if it does.",
    "P2": "Do the tool's terms let it store or train on what went in? If unknown, ask for the terms, or limit the "
          "approval to inputs that are not sensitive.",
    "P3": "Did sensitive inputs go into a tool outside an enterprise agreement? Weigh what went in against the "
          "tool's terms; a condition can exclude studio material.",
    "P4": "Will the generated material stay in what is delivered? If yes, weigh it as final material; if unsure, "
          "approve only as temporary with a condition.",
    "P5": "Did performers' images, voice or performance go in? Check the consent and its scope before approving.",
    "DATA-PROPRIETARY": "Which studio material went in, and into which tool? Check the tool's data terms; a "
                        "condition can name what may be uploaded.",
    "DATA-PERSONAL": "Whose personal data went in, and is that necessary? Prefer denying until it is removed.",
    "DATA-TRAINING": "Is every piece of training material cleared (artists, performers, rights holders)? "
                     "A style model of one artist's work needs that artist's agreement.",
    "CREATIVE-KEY": "Is this a key creative element at final design? Weigh whether the studio's creative leads "
                    "signed off the look; consider limiting to this shot or episode.",
    "CREATIVE-REFERENCE": "Which work, public figure or deceased person does the prompt or input reference? "
                          "Look at the picture for a recognisable likeness or recreation; check the permission.",
    "TALENT-REPLICA": "A digital replica of real talent: check the documented consent (who, which production, "
                      "which uses, until when) and guild terms; name the allowed uses in the conditions.",
    "TALENT-ALTERATION": "A significant change to a performance: check the performer agreed to this change, "
                         "and that the altered performance is not new dialogue they never gave.",
    "FINAL-DELIVERABLE": "Generated material will be in the delivered picture: look at the preview for what an "
                         "audience could notice (signage, text, faces); conditions such as 'background only; not "
                         "in marketing' are usual.",
    "UNION-WORK": "Does this replace work union members would have done? Check the agreements with the union "
                  "before approving.",
    "ETHICS-MISLEADING": "Could an audience take this for real footage, people or statements? If it is a "
                         "reconstruction, require it to be labelled as one.",
    "TALENT-NO-CONSENT": "Prohibited: a replica without documented consent cannot be approved.",
    "TALENT-MODEL-REUSE": "A talent model from another production: every party's written consent must cover "
                          "this production.",
    "DISCLOSURE-DEEPFAKE": "Realistic synthetic content of real people, places or events: is the audience told "
                           "(credits, on-screen label)? Require the disclosure as a condition.",
}
GENERIC = "Read the finding and the answers it names; decide whether the record gives you enough to say yes."


def weigh(rule: str) -> str:
    """What an approver weighs for this rule code."""
    return WEIGH.get(rule, GENERIC)
