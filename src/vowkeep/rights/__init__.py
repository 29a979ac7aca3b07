"""Data-subject rights: requests, identity verification, review and deadlines, fulfilment, export, the Data Rights
Protocol. Fulfilment reads and changes data only through the gate, as the system actor `rights`."""

from vowkeep.vault.actors import Actor

RIGHTS_ACTOR = Actor.system("rights")
