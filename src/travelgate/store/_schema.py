"""SQLite schema, as an append-only list of migrations (never edit a shipped one)."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: customers, TRISA conversations and every envelope as it travelled.
    """
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        person BLOB NOT NULL,               -- IVMS101 Person JSON, sealed at rest
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE customer_addresses (
        address TEXT PRIMARY KEY,           -- matched exactly, case-sensitive
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE
    );
    CREATE INDEX customer_addresses_customer ON customer_addresses(customer_id);

    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,                 -- counterparty certificate CN
        envelope_id TEXT NOT NULL,          -- normalized (lower-case canonical UUID)
        role TEXT NOT NULL,                 -- our role: originator | beneficiary
        state TEXT NOT NULL,                -- TransferState name of the last decisive message
        customer_id TEXT,                   -- beneficiary side: the matched customer
        hold_id TEXT,                       -- originator side: the withdrawal hold
        payload BLOB,                       -- latest clear Payload, sealed at rest
        last_in_state TEXT,                 -- last accepted inbound message, for logical
        last_in_digest TEXT,                --   duplicates (trisa.md 7.7 R3)
        reply_not_after TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (peer, envelope_id)
    );
    CREATE INDEX conversations_hold ON conversations(hold_id);

    CREATE TABLE envelopes (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
        peer TEXT NOT NULL,
        envelope_id TEXT NOT NULL,          -- as it travelled
        direction TEXT NOT NULL,            -- in | out
        transfer_state TEXT NOT NULL,
        error_code INTEGER,
        message_key TEXT,                   -- inbound requests: idempotency key (7.7 R2)
        raw BLOB NOT NULL,                  -- serialized SecureEnvelope, exactly as it travelled
        reply_to INTEGER REFERENCES envelopes(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX envelopes_message_key ON envelopes(message_key);
    CREATE INDEX envelopes_reply_to ON envelopes(reply_to);
    CREATE INDEX envelopes_conversation ON envelopes(conversation_id, id);
    CREATE INDEX envelopes_created ON envelopes(created_at);
    """,
)
