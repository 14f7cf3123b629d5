"""vector_database"""
