"""Governance reports (日报告、周会办、月研判): figures per hierarchy node, XLSX and PDF."""
