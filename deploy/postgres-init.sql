-- Prefect keeps its own database next to Homeward's.
CREATE DATABASE prefect OWNER homeward;
