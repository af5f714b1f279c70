DROP TABLE IF EXISTS anomaly_models;
