DROP TABLE event_inbox;
DROP TABLE presence;
DROP TABLE player_records;
DROP TABLE checkpoints;
