"""`compare`: proof that scratchnet and torchnet agree, and Homework 7 reproduced (README
"Where things live" names each module)."""
