"""Sensors of an emulated BMC: IPMI Full Sensor Records (SDR type 01h) and their readings.

Each sensor is linear, ``value = M * raw * 10**R``; the raw reading wanders a little around its nominal value so
repeated readouts differ, as on real hardware.
"""

from __future__ import annotations

import dataclasses
import random
import struct

# sensor type codes and unit codes from the IPMI 2.0 specification (tables 42-3 and 43-15)
TEMPERATURE, VOLTAGE, FAN = 0x01, 0x02, 0x04
DEGREES_C, VOLTS, RPM = 1, 4, 18
OWNER_BMC = 0x20


@dataclasses.dataclass(frozen=True)
class Sensor:
    number: int
    name: str
    sensor_type: int
    unit: int
    entity: int
    m: int
    r_exp: int
    nominal: int  # raw
    upper_critical: int  # raw

    def record(self, record_id: int) -> bytes:
        """The Full Sensor Record (43-1) for this sensor."""
        name = self.name.encode("ascii")[:16]
        body = bytearray()
        body += bytes([OWNER_BMC, 0x00, self.number])  # key: owner, LUN, number
        body += bytes([self.entity, 0x01, 0x7F, 0x44, self.sensor_type, 0x01])  # entity, init, caps, type, reading
        body += struct.pack("<HHH", 0x7A95, 0x7A95, 0x3F3F)  # threshold masks
        body += bytes([0x00, self.unit, 0x00, 0x00])  # units 1-3 (unsigned), linear
        body += bytes([self.m & 0xFF, (self.m >> 2) & 0xC0, 0x00, 0x00, 0x00, (self.r_exp & 0x0F) << 4])
        body += bytes([0x07, self.nominal, 0xFF, 0x00, 0xFF, 0x00])  # analog flags, nominal, normal max/min, max/min
        body += bytes([0xFF, self.upper_critical, max(0, self.upper_critical - 5), 0x00, 0x00, 0x00])
        body += bytes([0x00, 0x00, 0x00, 0x00, 0x00])  # hysteresis, reserved, OEM
        body += bytes([0xC0 | len(name)]) + name
        header = struct.pack("<HBBB", record_id, 0x51, 0x01, len(body))
        return header + bytes(body)

    def reading(self, rng: random.Random) -> bytes:
        """Get Sensor Reading response data (after the completion code): raw, flags, threshold states."""
        raw = max(0, min(0xFF, self.nominal + rng.randint(-2, 2)))
        thresholds = 0x10 if raw >= self.upper_critical else 0x00
        return bytes([raw, 0x40, thresholds, 0x80])


DEFAULT_SENSORS: tuple[Sensor, ...] = (
    Sensor(1, "CPU Temp", TEMPERATURE, DEGREES_C, 0x03, m=1, r_exp=0, nominal=45, upper_critical=90),
    Sensor(2, "Fan 1", FAN, RPM, 0x1D, m=50, r_exp=0, nominal=60, upper_critical=200),
    Sensor(3, "12V", VOLTAGE, VOLTS, 0x07, m=1, r_exp=-1, nominal=120, upper_critical=140),
)


class SensorRepository:
    """The SDR repository: records addressed by record id, 1..n, with ``0xFFFF`` after the last."""

    def __init__(self, sensors: tuple[Sensor, ...] = DEFAULT_SENSORS, seed: int | None = None) -> None:
        self.sensors = {sensor.number: sensor for sensor in sensors}
        self.records = [sensor.record(index) for index, sensor in enumerate(sensors, start=1)]
        self.reservation = 0
        self._rng = random.Random(seed)

    def info(self) -> list[int]:
        """Get SDR Repository Info (33.9)."""
        count = len(self.records)
        return [0x51, count & 0xFF, count >> 8, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]

    def reserve(self) -> list[int]:
        self.reservation = (self.reservation + 1) & 0xFFFF or 1
        return [self.reservation & 0xFF, self.reservation >> 8]

    def get(self, data: bytes) -> tuple[int, list[int]]:
        """Get SDR (33.12): ``(completion code, data)``; record id 0 means the first record."""
        if len(data) < 6:
            return 0xC7, []
        reservation, record_id, offset, size = struct.unpack("<HHBB", bytes(data[:6]))
        if offset and reservation != self.reservation:
            return 0xC5, []  # reservation cancelled / invalid
        index = 0 if record_id == 0 else record_id - 1
        if not 0 <= index < len(self.records):
            return 0xCB, []  # requested record not present
        record = self.records[index]
        next_id = index + 2 if index + 1 < len(self.records) else 0xFFFF
        chunk = record[offset:] if size == 0xFF else record[offset:offset + size]
        return 0x00, [next_id & 0xFF, next_id >> 8, *chunk]

    def read(self, number: int) -> tuple[int, list[int]]:
        sensor = self.sensors.get(number)
        if sensor is None:
            return 0xCB, []
        return 0x00, list(sensor.reading(self._rng))
