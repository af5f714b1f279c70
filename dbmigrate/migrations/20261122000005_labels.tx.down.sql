DROP TABLE IF EXISTS transaction_labels;
