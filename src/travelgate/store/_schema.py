"""SQLite schema, as an append-only list of migrations (never edit a shipped one); each has
its PostgreSQL twin, under the same number, in `store.postgres._schema`."""

from __future__ import annotations

# The chain's columns; the store chains the rows already there in the same transaction
# (on either backend: this migration's number is where the hook runs).
AUDIT_CHAIN_MIGRATION = """
    ALTER TABLE audit ADD COLUMN prev_hash TEXT;   -- hash of the record before (chain)
    ALTER TABLE audit ADD COLUMN hash TEXT;        -- SHA-256 of this record's canonical JSON
    ALTER TABLE audit ADD COLUMN signature TEXT;   -- Ed25519 by the audit key, hex
    CREATE UNIQUE INDEX audit_prev_hash ON audit(prev_hash);  -- the chain never forks
    CREATE INDEX audit_at ON audit(at);
    CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,               -- the last record purged from the chain's head
        hash TEXT NOT NULL
    );
    CREATE TABLE audit_notes (
        id INTEGER PRIMARY KEY,
        sealed BLOB NOT NULL,               -- free text of a record (reasons), sealed at rest
        audit_seq INTEGER                   -- the record that refers to it
    );
    CREATE INDEX audit_notes_seq ON audit_notes(audit_seq);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email_digest TEXT NOT NULL UNIQUE,  -- keyed digest of the lower-cased email
        email BLOB NOT NULL,                -- sealed at rest
        role TEXT NOT NULL,                 -- admin | compliance | observer
        password_hash TEXT NOT NULL,        -- argon2id
        totp_secret BLOB NOT NULL,          -- sealed at rest
        must_change_password INTEGER NOT NULL DEFAULT 1,
        failed_sign_ins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,                  -- lock-out after repeated failed sign-ins
        last_sign_in_at TEXT,
        disabled_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
"""

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
        last_in_digest TEXT,                --   duplicates (TRISA duplicate envelopes)
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
        message_key TEXT,                   -- inbound requests: idempotency key (TRISA duplicates)
        raw BLOB NOT NULL,                  -- serialized SecureEnvelope, exactly as it travelled
        reply_to INTEGER REFERENCES envelopes(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX envelopes_message_key ON envelopes(message_key);
    CREATE INDEX envelopes_reply_to ON envelopes(reply_to);
    CREATE INDEX envelopes_conversation ON envelopes(conversation_id, id);
    CREATE INDEX envelopes_created ON envelopes(created_at);
    """,
    # 2: withdrawal holds, the durable outbox, webhook events, reviews, API keys, audit.
    """
    CREATE TABLE holds (
        id TEXT PRIMARY KEY,
        api_key_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,         -- of the canonical request body (409 on a mismatch)
        request BLOB NOT NULL,              -- the request JSON, sealed at rest (it names persons)
        state TEXT NOT NULL,
        asset TEXT NOT NULL,
        network TEXT NOT NULL,
        amount TEXT NOT NULL,               -- exact decimal string
        destination TEXT NOT NULL,
        customer_id TEXT,
        counterparty TEXT,                  -- peer CN, "self-hosted", or NULL (unknown)
        envelope_id TEXT,
        decision TEXT,                      -- JSON: the policy decision of record
        decision_rule TEXT,
        decision_reason TEXT,
        deadline TEXT,                      -- when an unanswered exchange times out
        started_at TEXT,                    -- when the exchange started (max_wait counts from it)
        txid TEXT,
        version INTEGER NOT NULL DEFAULT 0, -- bumped on every change (long polls wait on it)
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (api_key_id, idempotency_key)
    );
    CREATE INDEX holds_state ON holds(state);
    CREATE INDEX holds_envelope ON holds(envelope_id);
    CREATE INDEX holds_deadline ON holds(deadline) WHERE deadline IS NOT NULL;

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,                 -- transfer | webhook
        target TEXT NOT NULL,               -- peer CN | webhook URL
        hold_id TEXT,
        conversation_peer TEXT,
        envelope_id TEXT,                   -- transfer: envelope id to send under
        transfer_state TEXT,                -- transfer: TransferState name
        body_kind TEXT NOT NULL,            -- payload | error | json
        body BLOB NOT NULL,                 -- payload/error: protobuf, sealed at rest; json: text
        event_id TEXT,                      -- webhook: the event id (same on every retry)
        request_id INTEGER,                 -- transfer: the stored envelope once sealed (R7)
        state TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | dead
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
    CREATE INDEX outbox_hold ON outbox(hold_id);

    CREATE TABLE reviews (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,                 -- withdrawal | deposit
        subject_id TEXT NOT NULL,           -- hold id | conversation id
        rule TEXT,
        reason TEXT,
        state TEXT NOT NULL,                -- open | accepted | rejected
        decision_reason TEXT,
        decided_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX reviews_state ON reviews(state);
    CREATE INDEX reviews_subject ON reviews(subject_id);

    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,          -- SHA-256 of the key; the key itself is never stored
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,                -- api key id, peer CN, "policy", "system"
        action TEXT NOT NULL,
        subject TEXT NOT NULL,              -- e.g. hold:<id>, conversation:<id>
        detail TEXT NOT NULL                -- JSON, no personal data
    );
    CREATE INDEX audit_subject ON audit(subject, id);
    """,
    # 3: API key scopes and last use; idempotency keys looked up per node; deposits get a
    # public UUID and a version (long polls, webhooks), and the decision of record.
    """
    ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL
        DEFAULT 'withdrawals deposits customers reviews admin';
    ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
    CREATE INDEX holds_idempotency ON holds(idempotency_key);
    CREATE INDEX holds_customer ON holds(customer_id);
    CREATE INDEX holds_counterparty ON holds(counterparty);
    ALTER TABLE conversations ADD COLUMN public_id TEXT;
    ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN decision TEXT;  -- JSON: rule, reason, code of record
    UPDATE conversations SET public_id =
        '00000000-0000-4000-8000-' || printf('%012d', id) WHERE public_id IS NULL;
    CREATE UNIQUE INDEX conversations_public_id ON conversations(public_id);
    CREATE INDEX conversations_role ON conversations(role, id);
    """,
    # 4: sanctions lists (replaced whole on every load) and their addresses.
    """
    CREATE TABLE screening_lists (
        name TEXT PRIMARY KEY,
        format TEXT NOT NULL,               -- csv | ofac-sdn-xml
        source TEXT NOT NULL,               -- the file it was loaded from
        digest TEXT NOT NULL,               -- SHA-256 of that file
        entries INTEGER NOT NULL,
        loaded_at TEXT NOT NULL
    );
    CREATE TABLE screening_entries (
        id INTEGER PRIMARY KEY,
        list TEXT NOT NULL REFERENCES screening_lists(name) ON DELETE CASCADE,
        address_key TEXT NOT NULL,          -- compared form (lower-case hex for EVM addresses)
        address TEXT NOT NULL,              -- as published
        asset TEXT NOT NULL,                -- our ticker ("" when the list names none)
        reference TEXT NOT NULL
    );
    CREATE INDEX screening_entries_key ON screening_entries(address_key);
    CREATE INDEX screening_entries_list ON screening_entries(list);
    """,
    # 5: what a hold's decision and counterparty are, as codes, and what the counterparty
    #    returned as the beneficiary.
    """
    ALTER TABLE holds ADD COLUMN counterparty_kind TEXT;      -- vasp | self_hosted | unknown
    ALTER TABLE holds ADD COLUMN counterparty_protocol TEXT;  -- trisa, or NULL (none usable)
    ALTER TABLE holds ADD COLUMN decision_code TEXT;          -- a DecisionCode
    ALTER TABLE holds ADD COLUMN trisa_code TEXT;             -- the peer's TRISA error name
    ALTER TABLE holds ADD COLUMN beneficiary_identity BLOB;   -- IVMS101 JSON, sealed at rest
    ALTER TABLE holds ADD COLUMN beneficiary_match TEXT;      -- exact | close | mismatch
    """,
    # 6: envelopes we could not open, kept as metadata only (never their bytes).
    """
    CREATE TABLE failed_envelopes (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,                 -- counterparty certificate CN
        envelope_id TEXT NOT NULL,          -- as it travelled (possibly not a valid UUID)
        code INTEGER NOT NULL,              -- the TRISA error code we answered with
        size INTEGER NOT NULL,              -- bytes of the serialized envelope
        sha256 TEXT NOT NULL,               -- hex SHA-256 of the serialized envelope
        created_at TEXT NOT NULL
    );
    CREATE INDEX failed_envelopes_peer ON failed_envelopes(peer, id);
    CREATE INDEX failed_envelopes_created ON failed_envelopes(created_at);
    """,
    # 7: wallet ownership challenges, the customers' address book, security alerts, and
    #    what screening and a new-destination hold did to a withdrawal.
    """
    CREATE TABLE wallet_challenges (
        nonce TEXT PRIMARY KEY,             -- 128-bit hex, single use
        customer_id TEXT NOT NULL,
        address TEXT NOT NULL,
        network TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX wallet_challenges_expiry ON wallet_challenges(expires_at);
    CREATE TABLE customer_wallets (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        address_key TEXT NOT NULL,          -- compared form (lower-case hex for EVM addresses)
        address TEXT NOT NULL,              -- as the customer gave it
        network TEXT NOT NULL,
        kind TEXT NOT NULL,                 -- self_hosted | vasp
        method TEXT,                        -- self_hosted: eip191 | bip137 | manual
        evidence TEXT,                      -- manual: what the person saw (e.g. a txid)
        verified_by TEXT,                   -- the API key (or peer) that verified it
        verified_at TEXT NOT NULL,
        vasp TEXT,                          -- vasp: the exchange that accepted
        beneficiary_name TEXT,              -- vasp: the beneficiary as we named it
        first_used_at TEXT,
        last_used_at TEXT,
        UNIQUE (customer_id, address_key, network)
    );
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,                 -- alert.<name>
        severity TEXT NOT NULL,             -- info | warning | critical
        subject TEXT NOT NULL,
        detail TEXT NOT NULL,               -- JSON, no personal data
        dedupe_key TEXT NOT NULL UNIQUE,    -- one alert per occurrence
        created_at TEXT NOT NULL
    );
    CREATE INDEX alerts_type ON alerts(type);
    ALTER TABLE holds ADD COLUMN screening TEXT;   -- JSON: what screening found
    ALTER TABLE holds ADD COLUMN release_at TEXT;  -- a new destination's hold ends then
    CREATE INDEX holds_release ON holds(release_at) WHERE release_at IS NOT NULL;
    """,
    # 8: the audit trail becomes a signed hash chain (rows written before are chained once,
    #    at upgrade, by `AUDIT_CHAIN_MIGRATION`'s hook); free text of audit records is sealed
    #    apart; the people who use the console.
    AUDIT_CHAIN_MIGRATION,
    # 9: TRP: minted Travel Addresses, one row per TRP transfer (either role), and which
    #    protocol a deposit or hold used.
    """
    CREATE TABLE trp_addresses (
        token TEXT PRIMARY KEY,             -- unguessable, the path of the minted URL
        customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        address TEXT NOT NULL,              -- the customer's deposit address it stands for
        travel_address TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX trp_addresses_customer ON trp_addresses(customer_id);
    CREATE TABLE trp_transfers (
        id INTEGER PRIMARY KEY,
        role TEXT NOT NULL,                 -- our role: originator | beneficiary
        peer TEXT NOT NULL,                 -- counterparty certificate CN ("" until known)
        request_identifier TEXT NOT NULL,
        hold_id TEXT,                       -- originator: the withdrawal hold
        conversation_id INTEGER,            -- beneficiary: the deposit's conversation
        callback_token TEXT NOT NULL UNIQUE,  -- of the callback URL we minted for the peer
        peer_callback TEXT,                 -- the peer's callback (inquiry's or approval's)
        inquiry_url TEXT,                   -- originator: where the inquiry went
        answer BLOB,                        -- beneficiary: our 200 body, replayed on repeats
        approved_address TEXT,
        state TEXT NOT NULL,                -- inquired | approved | rejected | confirmed | canceled
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX trp_transfers_request ON trp_transfers(role, peer, request_identifier)
        WHERE role = 'beneficiary';
    CREATE INDEX trp_transfers_hold ON trp_transfers(hold_id);
    ALTER TABLE conversations ADD COLUMN protocol TEXT NOT NULL DEFAULT 'trisa';
    ALTER TABLE holds ADD COLUMN approved_address TEXT;  -- TRP: the address the peer approved
    """,
    # 10: sunrise: one-time links emailed to counterparties on no travel-rule network.
    """
    CREATE TABLE sunrise_links (
        id TEXT PRIMARY KEY,                -- a UUID
        hold_id TEXT NOT NULL,
        peer TEXT NOT NULL,                 -- the peers.toml name
        email TEXT NOT NULL,                -- the counterparty's compliance address
        email_code INTEGER NOT NULL,        -- 1: a one-time code is emailed apart and asked
        token_hash TEXT UNIQUE,             -- keyed digest of the link's token (NULL: not sent)
        code_hash TEXT,                     -- keyed digest of the one-time code
        code_tries INTEGER NOT NULL,        -- wrong codes entered
        unlock_hash TEXT,                   -- keyed digest of the cookie a right code set
        identity BLOB NOT NULL,             -- IVMS101 JSON the page shows, sealed at rest
        state TEXT NOT NULL,                -- open | accepted | rejected | void | locked
        expires_at TEXT NOT NULL,
        viewed_at TEXT,
        decided_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX sunrise_links_hold ON sunrise_links(hold_id);
    """,
    # 11: each hold keeps the retention of the profiles that decided it, so retention
    #     purges it after ITS period (NULL: the configured [storage] retention).
    """
    ALTER TABLE holds ADD COLUMN retention_seconds INTEGER;
    """,
    # 12: console sign-ins: one row per session, found by a keyed digest of its cookie's
    #     token (the token itself is never stored); counterparties an admin blocked.
    """
    CREATE TABLE console_sessions (
        token_digest TEXT PRIMARY KEY,      -- keyed digest of the cookie's token
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,         -- idle expiry counts from here
        expires_at TEXT NOT NULL,           -- absolute expiry
        ended_at TEXT                       -- signed out, or ended with the person's access
    );
    CREATE INDEX console_sessions_user ON console_sessions(user_id);
    CREATE TABLE counterparty_blocks (
        peer TEXT PRIMARY KEY,              -- the counterparty's certificate common name
        blocked_by TEXT NOT NULL,           -- user:<id> of the admin who blocked it
        blocked_at TEXT NOT NULL
    );
    """,
    # 13: several processes on one database. An outbox row is claimed by one process for a
    #     lease (a crashed process's claims lapse); an Idempotency-Key is claimed once per
    #     node, by the transaction that holds the withdrawal; a subject has one open review;
    #     the keys every process must share are known by their fingerprints.
    """
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;   -- the process delivering the row
    ALTER TABLE outbox ADD COLUMN lease_until TEXT;  -- its claim lapses then
    CREATE TABLE idempotency_keys (
        idempotency_key TEXT PRIMARY KEY,
        hold_id TEXT NOT NULL
            REFERENCES holds(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        created_at TEXT NOT NULL
    );
    INSERT INTO idempotency_keys (idempotency_key, hold_id, created_at)
        SELECT h.idempotency_key, h.id, h.created_at FROM holds AS h
        WHERE NOT EXISTS (
            SELECT 1 FROM holds AS o WHERE o.idempotency_key = h.idempotency_key
            AND (o.created_at < h.created_at OR (o.created_at = h.created_at AND o.id < h.id))
        );
    CREATE INDEX idempotency_keys_hold ON idempotency_keys(hold_id);
    CREATE UNIQUE INDEX reviews_one_open ON reviews(subject_id) WHERE state = 'open';
    CREATE TABLE node_keys (
        name TEXT PRIMARY KEY,              -- storage | audit
        fingerprint TEXT NOT NULL,          -- of the key every process of the node must hold
        created_at TEXT NOT NULL
    );
    """,
)
