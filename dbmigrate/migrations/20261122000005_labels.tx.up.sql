-- Ground truth for measuring and training detection: one current label per
-- transaction, from an analyst's verdict or a feed such as chargebacks.
CREATE TABLE transaction_labels (
    user_id         bigint      NOT NULL,
    transaction_id  bigint      NOT NULL,
    label           text        NOT NULL CHECK (label IN ('FRAUD', 'LEGITIMATE')),
    source          text        NOT NULL,
    note            text        NOT NULL DEFAULT '',
    labelled_by     bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, transaction_id),
    FOREIGN KEY (user_id, transaction_id) REFERENCES transactions (user_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX transaction_labels_transaction_key ON transaction_labels (transaction_id);
CREATE INDEX transaction_labels_label_idx ON transaction_labels (label, transaction_id);
