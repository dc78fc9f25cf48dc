DROP TABLE analytics_events;
DROP TABLE party_members;
DROP TABLE parties;
DROP INDEX playground_seats_party;
ALTER TABLE playground_seats DROP COLUMN party_id;
DROP TABLE catalogue_seats;
DROP TABLE catalogue_tags;
DROP TABLE catalogue_playgrounds;
