from cadenza.cards import model_card
from cadenza.pipeline import shipped


def test_the_card_of_a_shipped_model_says_what_it_is_and_how_it_measured():
    card = model_card("tiny-piano-mel", shipped("tiny-piano-mel"))
    assert "16000 Hz" in card and "deis, 20 steps" in card and "hours of audio" in card
    assert "editing strategy (extend, inpaint, outpaint): repaint" in card
    assert "What they sound like" in card  # the measured quality from the models' README
