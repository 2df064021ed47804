"""localgrid"""
