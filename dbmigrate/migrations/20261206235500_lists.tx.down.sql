DROP TABLE list_entries;
DROP TABLE lists;
