"""`eval_decisions`: when the offline provider calls `fetch_orders`, measured on the shared
dataset and on held-out tickets written for these tests (not taken from the dataset):
long emails with greetings, signatures and quoted replies, French, typos and slang.

Each held-out file was written by someone who had not seen the classifier and measured once
before any change made for it; those first figures are the honest estimate for wordings
nobody tuned to, and they are recorded below. After that measurement a file is a
development set like any other and its test guards against regressions.

| file (measured in this order)  | n   | first measurement: recall / unnecessary |
| ------------------------------ | --- | --------------------------------------- |
| held_out_decisions_blind       | 22  | 0.83 / 0.10                             |
| blind_set_b                    | 200 | 0.89 / 0.13                             |
| blind_set_c                    | 160 | 0.975 / 0.15                            |
| blind_set_d (hard negatives)   | 160 | 0.863 / 0.225                           |
| blind_set_e (61 hard negatives)| 200 | 0.92 / 0.12                             |
| blind_set_f (dataset intents)  | 240 | 0.92 / 0.08                             |
| blind_set_g (dataset intents)  | 240 | 0.98 / 0.04                             |
| blind_set_h (dataset intents)  | 240 | 0.97 / 0.04                             |
| blind_set_i (dataset intents)  | 240 | 0.98 / 0.06                             |
| blind_set_j (dataset intents)  | 240 | 0.93 / 0.04                             |
| blind_set_k (dataset intents)  | 240 | 0.95 / 0.01                             |
| blind_set_l (dataset intents)  | 240 | 0.95 / 0.06                             |
| blind_set_m (unusual phrasing) | 240 | 0.85 / 0.03                             |
| blind_set_n (hard both ways)   | 240 | 0.83 / 0.08                             |
| blind_set_o (hard both ways)   | 240 | 0.87 / 0.03                             |
| blind_set_p (an ordinary week) | 240 | 0.90 / 0.01                             |
| blind_set_q (a third hard)     | 240 | 0.87 / 0.05                             |
| blind_set_r (an ordinary week) | 240 | 0.99 / 0.02                             |
| blind_set_s (a third hard)     | 240 | 0.75 / 0.06                             |
| blind_set_t (an ordinary month)| 240 | 0.97 / 0.00                             |
| blind_set_u (a third hard)     | 240 | 0.93 / 0.06                             |
| blind_set_v (an ordinary month)| 240 | 0.97 / 0.00                             |
| blind_set_w (a third hard)     | 240 | 0.81 / 0.06                             |
| blind_set_x (long emails)      | 240 | 0.97 / 0.02                             |
| blind_set_y (chat and phone)   | 240 | 0.95 / 0.00                             |
| blind_set_z (a third hard)     | 240 | 0.73 / 0.10                             |

Sets B to E lean on hard negatives (a general question after a delivery problem was
solved); F to W keep the dataset's intents and labels, reworded as long threads, French
and phone typing (M to O, Q, S, U and W ask after orders in unusual words on purpose, and
N, O, Q, S, U and W put order words into general questions; P, R, T and V are ordinary
weeks of an inbox; X is a month of long emails, English and French, a third of them with a
quoted thread, and Y a week of chat and phone typing, half of it French; Z is hard cases
again, and is guarded at its own level, below the bar). Each was measured after the
changes made for the sets before it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from copilot.agent.intents import customer_words, needs_order_data
from copilot.models import Brand, Ticket
from tests.conftest import require
from tests.fakes import openai_server as fake

# The project's shared data sits beside the checkout (../shared), on every machine and in CI.
DATASET = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "support-intents.csv"
DATA = Path(__file__).parent / "data"

pytestmark = pytest.mark.django_db


def evaluate(path: Path, capsys) -> dict:
    call_command("eval_decisions", str(path), "--provider", "rules", "--json")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("n: ") and lines[2].startswith("call recall: ")
    return json.loads(lines[-1])


def test_rules_provider_meets_the_bar_on_the_shared_dataset(capsys):
    require(DATASET.exists(), f"needs the shared dataset at {DATASET}")
    figures = evaluate(DATASET, capsys)

    assert figures["n"] == 4455 and figures["n_call"] == 555
    assert figures["call_recall"] >= 0.95
    assert figures["unnecessary_call_rate"] <= 0.03
    assert figures["n_either"] == 1292  # reported, not judged: every row of it was run
    # Nothing the evaluation wrote is left behind.
    assert not Brand.objects.filter(slug__startswith="eval-").exists()
    assert not Ticket.objects.exists()


def joined(tmp_path: Path, *names: str) -> Path:
    """The held-out files `names` as one JSONL file."""
    path = tmp_path / "joined.jsonl"
    path.write_text("\n".join((DATA / name).read_text().strip() for name in names))
    return path


@pytest.mark.parametrize(
    ("names", "n", "n_call"),
    [
        (("held_out_decisions.jsonl", "held_out_decisions_2.jsonl"), 100, 50),
        (("held_out_decisions_blind.jsonl",), 22, 12),
        (("blind_set_b.jsonl", "blind_set_c.jsonl", "blind_set_d.jsonl"), 520, 260),
        (("blind_set_e.jsonl",), 200, 100),
        (("blind_set_f.jsonl", "blind_set_g.jsonl"), 480, 200),
        (("blind_set_h.jsonl", "blind_set_i.jsonl"), 480, 200),
        (("blind_set_j.jsonl", "blind_set_k.jsonl"), 480, 200),
        (("blind_set_l.jsonl", "blind_set_m.jsonl"), 480, 200),
        (("blind_set_n.jsonl", "blind_set_o.jsonl"), 480, 200),
        (("blind_set_p.jsonl", "blind_set_q.jsonl"), 480, 200),
        (("blind_set_r.jsonl", "blind_set_s.jsonl"), 480, 200),
        (("blind_set_t.jsonl", "blind_set_u.jsonl"), 480, 200),
        (("blind_set_v.jsonl", "blind_set_w.jsonl"), 480, 200),
        (("blind_set_x.jsonl", "blind_set_y.jsonl"), 480, 200),
    ],
    ids=[
        "written-for-tests",
        "blind-A",
        "blind-B-C-D",
        "blind-E",
        "blind-F-G",
        "blind-H-I",
        "blind-J-K",
        "blind-L-M",
        "blind-N-O",
        "blind-P-Q",
        "blind-R-S",
        "blind-T-U",
        "blind-V-W",
        "blind-X-Y",
    ],
)
def test_rules_provider_meets_the_bar_on_the_held_out_sets(capsys, tmp_path, names, n, n_call):
    figures = evaluate(joined(tmp_path, *names), capsys)

    assert figures["n"] == n and figures["n_call"] == n_call
    assert figures["call_recall"] >= 0.95
    assert figures["unnecessary_call_rate"] <= 0.03


def test_rules_provider_holds_its_level_on_the_latest_hard_case_set(capsys, tmp_path):
    """Set Z (order questions without order words, general questions full of them) is below
    the bar: 0.73 / 0.10 on first measurement, 0.86 / 0.02 after the rules it taught. This
    guards that level; hard traffic is the hosted model's, measured first in shadow mode."""
    figures = evaluate(joined(tmp_path, "blind_set_z.jsonl"), capsys)

    assert figures["n"] == 240 and figures["n_call"] == 100
    assert figures["call_recall"] >= 0.85
    assert figures["unnecessary_call_rate"] <= 0.03


def test_csv_input_and_bad_rows(tmp_path, capsys):
    good = tmp_path / "few.csv"
    good.write_text("utterance,order_lookup\nwhere is my parcel,call\nare you open today,no_call\n")
    assert evaluate(good, capsys)["call_recall"] == 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text("utterance,order_lookup\nwhere is my parcel,maybe\n")
    with pytest.raises(CommandError, match="Row 1"):
        call_command("eval_decisions", str(bad))


def test_quoted_reply_and_signature_are_not_read_as_the_question():
    email = (
        "Thanks, all good now!\n\nBest regards,\nAnna\nWhere is my order? (signature slogan)\n\n"
        "On Mon, 2 Nov 2026, Support <help@shop.example> wrote:\n> Where is your parcel? Track it."
    )

    assert customer_words(email) == "thanks, all good now!\n"
    assert not needs_order_data(email)
    assert needs_order_data("Where is my order?\n\nOn Mon, Support wrote:\n> Thanks for buying!")


@pytest.mark.parametrize(
    "text",
    [
        "wher is my oder",
        "i havent recieved my pakage",
        "trakcing number pls",
        "ou en est mon colis",
    ],
)
def test_typos_and_french_still_need_order_data(text):
    assert needs_order_data(text)


def test_eval_decisions_runs_the_openai_provider_through_the_local_server(
    tmp_path, capsys, openai_server
):
    def model(request):
        user = request["messages"][1]["content"]
        if "parcel" in user and not fake.tool_result_messages(request):
            return fake.tool_call("fetch_orders", {})
        return fake.text("Hello, thanks for writing.")

    openai_server.responder = model
    path = tmp_path / "few.jsonl"
    rows = [
        {"utterance": "where is my parcel", "order_lookup": "call"},
        {"utterance": "my parcel never came", "order_lookup": "call"},
        {"utterance": "are you open today", "order_lookup": "no_call"},
        {"utterance": "cancel my parcel", "order_lookup": "either"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows))

    call_command("eval_decisions", str(path), "--provider", "openai", "--json")

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["provider"] == "openai"
    assert (figures["call_recall"], figures["unnecessary_call_rate"]) == (1.0, 0.0)
    assert figures["either_call_rate"] == 1.0
    assert openai_server.requests and "tools" in openai_server.requests[0]


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        # A general word in one sentence does not silence the order question in another.
        ("Hi, Mr Price here, I have an account with you.\nWhere is my parcel?", True),
        # A delivery reported, then a general question: nothing to look up.
        ("Thanks, the parcel turned up this morning! Can the throw go in the machine?", False),
        ("I ordered from you last year and loved it. Do you still sell the blue one?", False),
        ("If I order by Friday, will it come before the 24th?", False),
        ("Bonjour, vous livrez en Belgique ?", False),
        ("Can you send me the tracking link again please", True),
        ("slt jai commandé une tente y a 10 jours et jai tjr rien, c normal??", True),
        # Thanks for a problem solved, then a general question.
        ("Thanks for sorting out the late parcel last week. How do I unsubscribe?", False),
        # Not ordered yet: nothing of theirs to look up, whatever the question mentions.
        ("I'm thinking of ordering the blue sofa. Is tracking sent by text or email?", False),
        ("Bonjour, je voudrais commander une lampe, vous passez par quel transporteur ?", False),
        # Their order asked after outright, with a general word beside it.
        ("Now it's back in stock, when will my washing machine be delivered?", True),
        # Indirect questions and French follow-ups.
        ("I'd like to know whether the table will be delivered before Easter. Ref OH-1187", True),
        ("Bonjour, où en est la commande n°55120 ?", True),
        ("le remboursement devait arriver sous 48h, ça fait une semaine", True),
        # A typo is seldom on the first letter: 'posts' is not 'costs'.
        ("when will the dog beds and scratching posts i ordered arrive", True),
        # On its way, checked on, looking: progress asked without a status word.
        ("is my dog bed order on the van yet?", True),
        ("hey, the refund for my cancelled order, is it on its way?", True),
        ("can u check on my refund pls the money isnt in my acct", True),
        ("returned the vacuum 2 wks ago hows my refund looking", True),
        ("its been 6 days when do i get my blender", True),
        ("REFUND??? 3 WEEKS. ORDER 71193", True),
        ("I pre-ordered the signed hardback: do you have a delivery date for my copy?", True),
        # A delivery that is over, then a general question.
        ("got my order yesterday thx!! btw what r ur customer service hours", False),
        (
            "Ma dernière commande a mis 5 jours à arriver. Pour la prochaine, vous proposez "
            "le point relais ?",
            False,
        ),
        # What the shop does for anyone: refunds, trial periods, orders in general.
        ("bjr vs remboursez si le vetement va pas ou c juste un avoir?", False),
        ("I bought a mattress from you last year. Is there a trial period?", False),
        ("With my last order I had to type my address in again. How do I save it?", False),
        ("Si une commande payée par carte cadeau est remboursée, l'argent va où ?", False),
        # Asked without the usual words: a reference, a promised date, money, "still nothing".
        ("any movement on #55120?", True),
        ("delivery date for my sofa pls", True),
        ("c'etait censé arriver mardi et on est jeudi... je le recois qd ?", True),
        ("pk ma livraison est repoussee au 20 ?? c sur cette fois ?", True),
        ("Des nouvelles ? Toujours rien ici.", True),
        ("u said 5 days for refund. its been 10", True),
        ("still waiting on the £45 for the broken saucepan. chased twice already", True),
        ("hi ordered the swaddle blankets on monday, when do they come", True),
        ("Où est mon argent ?? Commande 44019, 250 € quand même.", True),
        ("Est-ce que ma commande sera livrée avant Noël point d'interrogation", True),
        (
            "Ayant passé commande le 28 février, je souhaiterais connaître la date de livraison "
            "prévue.",
            True,
        ),
        # ... and general questions that use them.
        ("Your kids' pyjamas, do they come up big or small?", False),
        ("cant log in to see my orders, forgot my password. how to reset", False),
        (
            "My latest order came through fine, thanks. How do I change the email on my profile?",
            False,
        ),
        ("Je n'arrive jamais à vous joindre : quels sont les horaires du service client ?", False),
        ("Est-ce qu'on peut être remboursé ou seulement recevoir un avoir ?", False),
        ("slt, qd on est remboursé c'est sur la carte ou en bon d'achat ?", False),
        ("can i place an order to be delivered to someone else as a gift?", False),
        (
            "I've had three lovely orders from you with no problems. Can I reach you by phone?",
            False,
        ),
        ("Please delete my account. I do not wish to receive any further communication.", False),
        ("je voulais mettre un commentaire mais ca bug qd je clique sur envoyer", False),
        ("Est-ce que je peux parler à un agent pour vrai?", False),
        # A bare reference asked after, a refund owed in other words, a return sent back.
        ("Commande AV-79455 ???", True),
        ("#UK-55810 ?", True),
        ("Expected by Friday still? ref 20331", True),
        ("rma 40577 processed yet?", True),
        ("got the email saying return received but no £ yet", True),
        ("Bonjour, mon avoir pour le retour RET-2291 a-t-il été validé ?", True),
        ("returned it on the 3rd. money?", True),
        ("was told 5-7 days for the money back its day 10", True),
        ("hi can u check where order 55120 is, im in a hurry", True),
        ("any idea what time the driver comes today with my washer", True),
        ("courier says left with neighbour. which neighbour lol", True),
        ("it was promised for the 12th. its the 15th.", True),
        ("hey roughly how many days til my box shows up", True),
        (
            "J'ai acheté la nappe le 28 janvier. Depuis, silence radio. Qu'est-ce qui se passe ?",
            True,
        ),
        ("did u guys send my brake cables yet", True),
        ("can u check if my return arrived and refund done", True),
        ("ordered a chain + cassette, how many more days", True),
        (
            "Je vous relance : commande 8841, je n'ai eu aucune nouvelle, ni du colis ni de vous.",
            True,
        ),
        (
            "J'ai retourné les souliers, ça fait trois semaines pis j'ai toujours rien vu sur ma "
            "carte.",
            True,
        ),
        ("J'ai reçu une des deux tasses. Est-ce que l'autre s'en vient dans un autre colis?", True),
        ("any idea when the trainers get delivered", True),
        ("le suivi m'indique 'en attente de prise en charge' depuis 6 jours, c normal ?", True),
        ("it says out for delivery since yesterday morning, is that right?", True),
        (
            "I make order of sun lounger two days ago. Please, can you say me which day it come?",
            True,
        ),
        ("still zilch #FM20931", True),
        ("The hedge trimmer went back on the 2nd of May. The £89 hasn't. Ref 30021987.", True),
        (
            "J'ai commandé une veste (CH-44120). Je pars en vacances samedi : est-ce que je "
            "l'aurai avant ?",
            True,
        ),
        ("any joy on 99120 yet", True),
        ("need the charger by friday, will it make it? 882031", True),
        ("still nothing for ord 7731", True),
        ("hiya, ordered a ps5 controller on monday... nada", True),
        ("returned the lamp, got the 'we received it' email, then zilch. £45 plz", True),
        ("yo, has the cash for the headphones i sent back actually been sent or what", True),
        ("Paid 11 Jan, GBP 299.95. Confirmation number 8812-3390. Nothing since.", True),
        (
            "Post says they have no record of it. Which carrier actually has it and where is it?",
            True,
        ),
        ("Order 71102, paid 5 Nov. The course starts on the 18th. Will she have it in time?", True),
        ("J'ai acheté un lit superposé lundi dernier. Il sera là avant les vacances ?", True),
        (
            "19 days since your van collected the sofa. Any chance of finding out where my money "
            "has got to?",
            True,
        ),
        (
            "Just wondering about the bookshelf. Ordered it on the 3rd and the page said 10 "
            "working days.",
            True,
        ),
        ("It's been four weeks now. Could you give me an actual delivery date please?", True),
        ("so roughly when should i expect the plants", True),
        (
            "The refund has been showing as 'pending' for 6 days now. Is anything holding it up?",
            True,
        ),
        ("paypal shows zero from you, what's up with my refund", True),
        ("J'ai passé commande ce matin. Ce sera là à temps ou pas? Commande 90127.", True),
        ("Le lien de suivi renvoie une page d'erreur. Où se trouve le colis exactement ?", True),
        ("j'ai commandé des dalles lundi et je voudrais savoir quel jour vous livrez", True),
        ("J'ai reçu la notification d'expédition, la livraison est prévue pour quel jour ?", True),
        ("hey just checking if the refund went thru for the bike lock", True),
        ("what day will my sheets come", True),
        ("Ref HW-60218, paid on the 1st. Has it even left your building?", True),
        (
            "Can you confirm the delivery slot the freight company has booked? Our ref HW-0391.",
            True,
        ),
        ("You said my sun loungers would be with me early next week. Has that moved?", True),
        ("Hello ! Mon transat, c'est pour cette semaine ou la suivante ? Commandé dimanche", True),
        ("ordered the lounger friday, are we talking days or weeks?", True),
        ("bought the grill sunday, bbq is on sat. gonna make it?", True),
        ("bank app shows nothing back from you guys yet", True),
        # General questions in order words.
        (
            "I've been going round in circles with your chatbot. I haven't even ordered anything "
            "yet! Can a real person get in touch?",
            False,
        ),
        (
            "Bonjour, je voudrais changer mon adresse email sur mon compte, ou est ce que je peux "
            "faire ca ?",
            False,
        ),
        (
            "Mon problème est réglé (remboursement reçu, merci !). Est-ce que vous remboursez aussi "
            "les frais de livraison ?",
            False,
        ),
        ("I am 84 and do not get on with computers. Could somebody ring me?", False),
        (
            "I've ordered as a guest a few times. Would my old orders show up in a new account?",
            False,
        ),
        (
            "My last order arrived fine so there's nothing outstanding. Could you close my account?",
            False,
        ),
        (
            "I had a parcel go missing last year (all sorted). What's the postal address for "
            "customer services?",
            False,
        ),
        ("tried to order the grey joggers 3 times, where's the checkout button on mobile??", False),
        ("My last order was paid by Amex without a problem. Do you take Apple Pay now?", False),
        ("Bonjour, je ne reçois pas le mail de confirmation d'inscription.", False),
        (
            "I order for my mum too (she can't get to the shops). Can I save her address in my "
            "account?",
            False,
        ),
        ("ballpark, how long do refunds take to land with u guys?", False),
        (
            "The desk arrived right on the day you said. Where's the best place to leave a review?",
            False,
        ),
        (
            "Allo, j'ai jamais commandé chez vous. Comment ça marche pour passer une commande ?",
            False,
        ),
        ("I've now moved to Luxembourg. Which payment methods do you accept here?", False),
        ("If it turns out not to suit his course, am I entitled to a full refund?", False),
        ("Je n'ai encore rien commandé : quels sont vos délais et frais de port ?", False),
        (
            "The main zip has failed. Do you offer a repair service, and how long does it take?",
            False,
        ),
        (
            "My postcode is 28013 Madrid and the page says invalid postcode. How I can register?",
            False,
        ),
        ("If it's not the right colour, can my friend return it for a refund?", False),
        (
            "Bonjour, acceptez-vous Bancontact ? Je ne le vois pas parmi les moyens de paiement.",
            False,
        ),
        (
            "I bought a mug last month. If the person doesn't like it, can it be returned for a "
            "refund?",
            False,
        ),
        (
            "I still have the confirmation email for order 88213 but I can't log in anymore. How "
            "do I reset my password?",
            False,
        ),
        (
            "Nothing is on the way at the moment. Where I can change the phone number in my "
            "profile?",
            False,
        ),
        (
            "Ma dernière commande a été livrée à domicile mais je ne suis jamais là en journée. "
            "Pour les prochaines, vous livrez en point relais ?",
            False,
        ),
        ("how many days does standard delivery take to spain", False),
        ("Can sale items be returned for a refund, or is it exchange only?", False),
        (
            "What are your opening hours over the Christmas period? I'd like to ring about a "
            "possible purchase.",
            False,
        ),
        (
            "J'ai toujours commandé sans compte et mes colis sont bien arrivés. Comment je fais "
            "pour créer un compte ?",
            False,
        ),
        ("Je souhaiterais ouvrir un compte client. Quelle est la démarche à suivre ?", False),
        (
            "Je reçois bien les mails de suivi quand je commande, mais comment me désabonner de "
            "la lettre d'info ?",
            False,
        ),
        (
            "I've ordered twice as a guest and both parcels arrived without any problem. How do "
            "I create an account?",
            False,
        ),
        ("Mon chat adore la nouvelle recette, j'aimerais laisser un commentaire. C'est où?", False),
        (
            "This month's box already arrived, so nothing to worry about there. How do I add a "
            "new address to my profile?",
            False,
        ),
        ("do your drivers carry items upstairs, or is it kerbside only?", False),
        # 'payment' and 'remboursement' end in -nt; that is not a "don't".
        ("Remboursement commande 44019 : pas de réponse, où est mon argent ?", True),
        # 'reviens' is French, not a typo of 'reviews'.
        ("Je reviens vers vous : mon remboursement n'est toujours pas arrivé.", True),
        # "Wondering if" asks, like "whether"; "ni ... ni" denies, like "pas".
        ("Hey! Just wondering if order 100452 has shipped. Thanks so much", True),
        ("Bonjour, je n'ai reçu ni ma commande ni mon remboursement. Où en est-on ?", True),
        # The conditional of "arriver" is still about an arrival.
        ("Bonjour, on m'avait dit que le colis arriverait en 48h, ça fait 5 jours", True),
        # A date missed, days counted, "not here", "left yet?", "will it be here before ...?"
        ("Those trainers I was meant to get Tuesday — it's Friday. Just saying.", True),
        ("delivery was due friday. nothing, no email no nothing. order 40017", True),
        ("Bonjour, le livreur devait passer ce matin pour la commode, personne n'est venu.", True),
        ("Day 9. Still nothing.", True),
        ("Toujours rien dans la boîte aux lettres depuis 10 jours…", True),
        ("Has the grinder left yet?", True),
        (
            "Le chat n'a plus de croquettes et le sac n'est toujours pas là. Vous pouvez regarder ?",
            True,
        ),
        ("Bonjour, est-ce que le tapis sera là avant samedi ? On reçoit toute la famille.", True),
        (
            "I'm moving on Monday so I need to know if the bedside lamps will be here before then.",
            True,
        ),
        ("Bonjour, le fauteuil vert que j'ai pris pour le salon, on en est où ? Merci", True),
        # How deliveries and refunds work in general, praise, orders not placed yet.
        ("Hi, how long does standard delivery take to Cork?", False),
        ("How do refunds work if I paid with Klarna?", False),
        ("What time do orders need to be in for same-day dispatch?", False),
        ("Loved my order! Where can I leave a review?", False),
        ("Is it possible to order now and have it delivered in 3 weeks when I'm back?", False),
        ("Est-ce que je pourrai suivre mon colis une fois la commande passée ?", False),
        ("Can I track my order once it ships? Thinking about getting the standing desk.", False),
        ("I was supposed to get a discount code by email after signing up, where is it?", False),
        ("If I order today, will it be here before Christmas?", False),
    ],
)
def test_each_sentence_is_judged_with_what_the_message_says(text, needed):
    assert needs_order_data(text) is needed


FORWARDED_ABOVE_THE_QUESTION = (
    "---------- Forwarded message ---------\nFrom: Orders <no-reply@shop.example>\n"
    "Subject: Your order #BE-77120 has shipped\n\nGood news! Your serum is on its way.\n"
    "----------\n\nHi, it's been over a week and the courier doesn't recognise the number. "
    "Where is my package?"
)


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        pytest.param(
            "Just chasing my email below please.\n\n"
            "On Mon, 3 Mar 2025, Ann Lee <ann@example.com> wrote:\n"
            "> Hello, where is my order 4417? It was due on Friday.",
            True,
            id="chase",
        ),
        pytest.param(
            "Thanks, got it! Do you have the lamp in green?\n\n"
            "On Mon, 3 Mar 2025, Shop <help@shop.example> wrote:\n"
            "> Where is your order? Let us check: it is out for delivery.",
            False,
            id="answered",
        ),
        pytest.param(
            "I haven't heard back about the message below.\n\n"
            "-----Original Message-----\nFrom: Chloe Martin\nSubject: Refund not received\n\n"
            "I sent back the damaged plant (order GL-5570) three weeks ago and still have no "
            "refund.",
            True,
            id="no-reply",
        ),
        pytest.param(
            "Hi, I never got an answer to this.\n\n-----Original Message-----\n"
            "Subject: delivery\n\n"
            "My coffee grinder order (ref 33021) shows as dispatched but with no ETA.",
            True,
            id="never-answered",
        ),
        pytest.param(
            "I never got a reply to this:\n\nOn Sat, 2 Mar 2024, Steve wrote:\n"
            "> What are your opening hours over the bank holiday weekend?",
            False,
            id="asked-hours",
        ),
        # The reply below the quote: a bottom-posted chase, a forwarded notice above the question.
        pytest.param(
            "> Hi Sarah, I can confirm a refund of €64.50 has been issued to your original "
            "payment method. Please allow 5-10 working days.\n\n"
            "It's been 12 working days. Can you check what happened to it?\n\nSarah",
            True,
            id="below-a-quote",
        ),
        pytest.param(FORWARDED_ABOVE_THE_QUESTION, True, id="below-a-forwarded-notice"),
        pytest.param(
            "Votre réponse automatique ci-dessous ne répond pas à ma question. Est-il possible "
            "de parler à un conseiller ?\n\nLe lun. 3 mars 2025, Service Client a écrit :\n"
            "> Pour suivre votre commande, rendez-vous dans votre espace client.",
            False,
            id="automatic-reply",
        ),
        pytest.param(
            "Hi Sam,\n\nAny joy with the greenhouse?\n\nBen\n\nOn Tue 4 Jun, Sam wrote:\n"
            "> I've raised a query with the haulier about your greenhouse (order 60381177) and "
            "will come back to you as soon as I hear where it is.",
            True,
            id="any-joy",
        ),
        pytest.param(
            "Hello again,\n\nI sent the question below ten days ago and haven't heard back.\n\n"
            "> Hello, do you ship to Canada, and if so what are the options and costs?",
            False,
            id="asked-shipping",
        ),
        # A subject line above a quoted notice, and an answer written between quoted lines.
        pytest.param(
            "Re: Confirmation de commande n°LU-7781\n\n> Date de livraison estimée : 14/03\n\n"
            "Le lien mène nulle part et ça fait 10 jours. Alors ?",
            True,
            id="subject-then-quote",
        ),
        pytest.param(
            "Thanks for your reply below, but it doesn't answer my question.\n\n"
            "> Our standard lead time for large furniture is 3-5 weeks.\n\n"
            "I'm asking when MY wardrobe (order 88145) is actually going to turn up.",
            True,
            id="between-quotes",
        ),
        pytest.param(
            "Vous disiez 5 jours ouvrés (cf. ci-dessous). Ça en fait 12.\n\n"
            "> Le remboursement sera effectué sous 5 jours ouvrés sur votre moyen de paiement.",
            True,
            id="chased-refund",
        ),
        # A chase that asks something general of its own is judged as that question.
        pytest.param(
            "Hi, see below - all resolved, thank you!\n\nOne general question though: is your "
            "30-day refund window counted from the delivery date or the order date?\n\n"
            "> Your refund of £40 for order HW-2231 has been processed.",
            False,
            id="resolved-then-policy",
        ),
    ],
)
def test_a_follow_up_asks_again_what_the_quoted_message_asked(text, needed):
    assert needs_order_data(text) is needed


def test_the_reply_below_a_forwarded_notice_is_the_customers_words():
    assert (
        customer_words(FORWARDED_ABOVE_THE_QUESTION).strip().startswith("hi, it's been over a week")
    )
