"""Writes co2_weekly.csv from the copy of the Mauna Loa weekly CO2 record that ships inside
statsmodels (statsmodels.datasets.co2; Keeling & Whorf, Scripps/CDIAC, public domain).

    python3 -m venv /tmp/v && /tmp/v/bin/pip install statsmodels==0.15.0
    /tmp/v/bin/python make_co2_csv.py > co2_weekly.csv

Weeks with a missing value are dropped (2,284 weeks, 59 missing: 2,225 rows).
Columns: date (ISO), decimal year (date's year + (day of year - 1) / days in year), co2 (ppm).
"""
import calendar

import statsmodels.api as sm

data = sm.datasets.co2.load_pandas().data.dropna()
print("date,year,co2_ppm")
for ts, row in data.iterrows():
    days = 366 if calendar.isleap(ts.year) else 365
    year = ts.year + (ts.day_of_year - 1) / days
    print(f"{ts.date().isoformat()},{year:.6f},{row.co2:.1f}")
